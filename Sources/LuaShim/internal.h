// Private to LuaShim: the per-state record and helpers shared by the C files.
#ifndef MEOW_LUASHIM_INTERNAL_H
#define MEOW_LUASHIM_INTERNAL_H

#include "LuaShim.h"
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/// Instructions between two budget checks while no budget has tripped.
#define MEOW_HOOK_PERIOD 1000
/// Bytes an evaluation may still allocate after a memory trip, so Lua can build its error.
#define MEOW_MEMORY_HEADROOM (64 * 1024)

typedef struct meow_extra {
    lua_State *main;
    // allocator
    size_t used;
    size_t hard_limit;
    // budget of the running evaluation
    int active;
    meow_budget budget;
    meow_usage usage;
    size_t mem_base;
    uint64_t start_ns;
    uint64_t deadline_ns;
    double now;
    // errors
    char *error;
    size_t error_len;
    char error_source[256];
    int error_line;
    int trip_refs[5];
    // documents
    meow_doc_callbacks doc;
    meow_host_callbacks host;
    uint32_t generation;
    int roots_ref;
    // the proxies' metatables, created once: pushing and recognising a proxy needs no name look-up
    int meta_object_ref;
    int meta_array_ref;
    const void *meta_object;
    const void *meta_array;
    uint32_t roots_generation;
    // misc
    int env_factory_ref;
    char *scratch;
    size_t scratch_cap;
} meow_extra;

meow_extra *meow_extra_of(lua_State *L);
uint64_t meow_now_ns(void);
/// Marks the running evaluation as tripped and makes every following instruction raise.
void meow_trip(lua_State *L, int kind);
/// Raises the error of a tripped budget (never returns).
int meow_raise_trip(lua_State *L);
/// Counts pattern-matcher steps against the budget; returns nonzero when the budget is exhausted.
int meow_pattern_steps(meow_extra *x, uint64_t steps);

// Bounded string functions (strlib.c).
int meow_str_find(lua_State *L);
int meow_str_match(lua_State *L);
int meow_str_gmatch(lua_State *L);
int meow_str_gsub(lua_State *L);
int meow_str_rep(lua_State *L);

// Entity proxies (docproxy.c).
void meow_push_proxy(lua_State *L, uint32_t node, int is_array);
/// The shared proxy of root entity `node` in the current generation.
void meow_push_root(lua_State *L, uint32_t node);
int meow_proxy_node(lua_State *L, int idx, uint32_t *node);
void meow_push_value(lua_State *L, const meow_value *v);

// Packed values (pack.c).
int meow_pack_value(lua_State *L, int idx, uint8_t **out, size_t *outlen);
int meow_unpack_value(lua_State *L, const uint8_t *buf, size_t len);

#endif
