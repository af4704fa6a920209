// Debian's liblua5.4-dev, C build (never the lua5.4-c++ variant: see docs/DESIGN §3).
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
