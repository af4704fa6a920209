// A Lua state with meow's capped allocator, budget hook, protected entry points and error capture.
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

// Messages of tripped budgets, created once per state and kept in the registry: raising them allocates
// nothing, which matters when the budget that tripped is memory.
static const char *const trip_messages[] = {
    "error",
    "instruction budget exceeded",
    "memory budget exceeded",
    "time budget exceeded",
    "pattern matching budget exceeded",
};

uint64_t meow_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

meow_extra *meow_extra_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (meow_extra *)ud;
}

// MARK: - Allocator

static void *meow_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    meow_extra *x = (meow_extra *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        x->used -= old;
        return NULL;
    }
    if (nsize > old) {
        size_t grow = nsize - old;
        size_t next = x->used + grow;
        if (x->hard_limit && next > x->hard_limit) return NULL;
        if (x->active && x->budget.memory) {
            size_t limit = x->mem_base + x->budget.memory;
            if (x->usage.trip != MEOW_TRIP_NONE) limit += MEOW_MEMORY_HEADROOM;
            if (next > limit) {
                if (x->usage.trip == MEOW_TRIP_NONE) {
                    x->usage.trip = MEOW_TRIP_MEMORY;
                    // Every following instruction raises, so a rule that pcall()s the memory error
                    // cannot go on.
                    lua_sethook(x->main, lua_gethook(x->main), LUA_MASKCOUNT, 1);
                }
                return NULL;
            }
        }
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    x->used = x->used - old + nsize;
    if (x->active && x->used > x->mem_base && x->used - x->mem_base > x->usage.memory_peak)
        x->usage.memory_peak = x->used - x->mem_base;
    return p;
}

// MARK: - Budget hook

static void record_position(lua_State *L, lua_Debug *ar, meow_extra *x) {
    if (x->error_line > 0) return;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0 && ar->source && ar->source[0] == '@') {
        snprintf(x->error_source, sizeof x->error_source, "%s", ar->source + 1);
        x->error_line = ar->currentline;
    }
}

int meow_raise_trip(lua_State *L) {
    meow_extra *x = meow_extra_of(L);
    int kind = x->usage.trip;
    if (kind < 0 || kind > 4) kind = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->trip_refs[kind]);
    return lua_error(L);
}

void meow_trip(lua_State *L, int kind) {
    meow_extra *x = meow_extra_of(L);
    if (x->usage.trip == MEOW_TRIP_NONE) x->usage.trip = kind;
    lua_sethook(x->main, lua_gethook(x->main), LUA_MASKCOUNT, 1);
    if (L != x->main) lua_sethook(L, lua_gethook(x->main), LUA_MASKCOUNT, 1);
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
    meow_extra *x = meow_extra_of(L);
    if (!x->active) return;
    if (x->usage.trip != MEOW_TRIP_NONE) {
        record_position(L, ar, x);
        meow_raise_trip(L);
        return;
    }
    x->usage.instructions += (uint64_t)lua_gethookcount(L);
    int kind = MEOW_TRIP_NONE;
    if (x->budget.instructions && x->usage.instructions > x->budget.instructions)
        kind = MEOW_TRIP_INSTRUCTIONS;
    else if (x->deadline_ns && meow_now_ns() > x->deadline_ns)
        kind = MEOW_TRIP_TIME;
    if (kind != MEOW_TRIP_NONE) {
        record_position(L, ar, x);
        meow_trip(L, kind);
        meow_raise_trip(L);
    }
}

int meow_pattern_steps(meow_extra *x, uint64_t steps) {
    x->usage.pattern_steps += steps;
    if (!x->active) return 0;
    if (x->usage.trip != MEOW_TRIP_NONE) return 1;
    if (x->budget.pattern_steps && x->usage.pattern_steps > x->budget.pattern_steps) {
        x->usage.trip = MEOW_TRIP_PATTERN;
    } else if (x->deadline_ns && meow_now_ns() > x->deadline_ns) {
        x->usage.trip = MEOW_TRIP_TIME;
    } else {
        return 0;
    }
    lua_sethook(x->main, lua_gethook(x->main), LUA_MASKCOUNT, 1);
    return 1;
}

void meow_budget_begin(lua_State *L, const meow_budget *budget, double now) {
    meow_extra *x = meow_extra_of(L);
    x->budget = *budget;
    memset(&x->usage, 0, sizeof x->usage);
    x->mem_base = x->used;
    x->start_ns = meow_now_ns();
    x->deadline_ns = budget->wall_ns ? x->start_ns + budget->wall_ns : 0;
    x->now = now;
    x->active = 1;
    lua_sethook(x->main, budget_hook, LUA_MASKCOUNT, MEOW_HOOK_PERIOD);
}

meow_usage meow_budget_end(lua_State *L) {
    meow_extra *x = meow_extra_of(L);
    x->active = 0;
    x->usage.elapsed_ns = meow_now_ns() - x->start_ns;
    lua_sethook(x->main, budget_hook, LUA_MASKCOUNT, MEOW_HOOK_PERIOD);
    return x->usage;
}

void meow_set_clock(lua_State *L, double now) { meow_extra_of(L)->now = now; }

// MARK: - Errors

static void clear_error(meow_extra *x) {
    free(x->error);
    x->error = NULL;
    x->error_len = 0;
    x->error_source[0] = 0;
    x->error_line = 0;
}

static void set_error(meow_extra *x, const char *s, size_t len) {
    free(x->error);
    x->error = (char *)malloc(len + 1);
    if (x->error == NULL) { x->error_len = 0; return; }
    memcpy(x->error, s, len);
    x->error[len] = 0;
    x->error_len = len;
}

// Copies the error object at the top of the stack without calling any metamethod.
static void capture_error(lua_State *L, meow_extra *x) {
    char buf[128];
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len = 0;
        const char *s = lua_tolstring(L, -1, &len);
        set_error(x, s, len);
        return;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1)) snprintf(buf, sizeof buf, "%lld", (long long)lua_tointegerx(L, -1, NULL));
        else snprintf(buf, sizeof buf, "%.14g", lua_tonumberx(L, -1, NULL));
        break;
    case LUA_TTABLE: {
        // error({message = "..."}): use a string `message` field, read raw.
        if (lua_checkstack(L, 2)) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                    size_t kl = 0;
                    const char *k = lua_tolstring(L, -2, &kl);
                    if (kl == 7 && memcmp(k, "message", 7) == 0) {
                        size_t len = 0;
                        const char *s = lua_tolstring(L, -1, &len);
                        set_error(x, s, len);
                        lua_pop(L, 2);
                        return;
                    }
                }
                lua_pop(L, 1);
            }
        }
        snprintf(buf, sizeof buf, "(error object is a table value)");
        break;
    }
    default:
        snprintf(buf, sizeof buf, "(error object is a %s value)", lua_typename(L, lua_type(L, -1)));
    }
    set_error(x, buf, strlen(buf));
}

// Message handler: runs while the failing frames still exist, to record where the error happened.
static int message_handler(lua_State *L) {
    meow_extra *x = meow_extra_of(L);
    lua_Debug ar;
    for (int level = 1; x->error_line == 0 && lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && ar.source && ar.source[0] == '@') {
            snprintf(x->error_source, sizeof x->error_source, "%s", ar.source + 1);
            x->error_line = ar.currentline;
        }
    }
    return 1;
}

const char *meow_last_error(lua_State *L, size_t *len) {
    meow_extra *x = meow_extra_of(L);
    if (len) *len = x->error_len;
    return x->error ? x->error : "";
}

const char *meow_last_error_source(lua_State *L) { return meow_extra_of(L)->error_source; }
int meow_last_error_line(lua_State *L) { return meow_extra_of(L)->error_line; }

// Runs `f(ud)` in protected mode with the message handler; leaves `nresults` results on the stack on
// success, nothing on failure.
static int run_protected(lua_State *L, lua_CFunction f, void *ud, int nresults) {
    meow_extra *x = meow_extra_of(L);
    clear_error(x);
    if (!lua_checkstack(L, 8)) {
        set_error(x, "not enough memory (Lua stack)", 29);
        return MEOW_ERR_MEMORY;
    }
    int base = lua_gettop(L);
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, f);
    lua_pushlightuserdata(L, ud);
    int status = lua_pcall(L, 1, nresults, base + 1);
    if (status != LUA_OK) {
        capture_error(L, x);
        lua_settop(L, base);
        return status;
    }
    lua_rotate(L, base + 1, -1);
    lua_settop(L, lua_gettop(L) - 1);
    return LUA_OK;
}

// MARK: - State lifecycle

static int init_k(lua_State *L) {
    meow_extra *x = meow_extra_of(L);
    for (int i = 0; i < 5; i++) {
        lua_pushstring(L, trip_messages[i]);
        x->trip_refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_settop(L, 0);
    // The real string library: bounded pattern functions and rep, no dump. Its table is the string
    // metatable's __index, which rules can't reach (see below); each file gets a copy.
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushcfunction(L, meow_str_find); lua_setfield(L, -2, "find");
    lua_pushcfunction(L, meow_str_match); lua_setfield(L, -2, "match");
    lua_pushcfunction(L, meow_str_gmatch); lua_setfield(L, -2, "gmatch");
    lua_pushcfunction(L, meow_str_gsub); lua_setfield(L, -2, "gsub");
    lua_pushcfunction(L, meow_str_rep); lua_setfield(L, -2, "rep");
    lua_pushnil(L); lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    // getmetatable("") returns false: the shared string metatable is out of reach.
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

lua_State *meow_state_new(size_t max_memory) {
    meow_extra *x = (meow_extra *)calloc(1, sizeof(meow_extra));
    if (x == NULL) return NULL;
    x->hard_limit = max_memory;
    lua_State *L = lua_newstate(meow_alloc, x);
    if (L == NULL) { free(x); return NULL; }
    x->main = L;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, MEOW_HOOK_PERIOD);
    if (run_protected(L, init_k, NULL, 0) != LUA_OK) {
        meow_state_close(L);
        return NULL;
    }
    return L;
}

void meow_state_close(lua_State *L) {
    if (L == NULL) return;
    meow_extra *x = meow_extra_of(L);
    x->active = 0;
    lua_close(L);
    free(x->error);
    free(x->scratch);
    free(x);
}

void meow_set_doc_callbacks(lua_State *L, const meow_doc_callbacks *callbacks) {
    meow_extra_of(L)->doc = *callbacks;
}

void meow_set_host_callbacks(lua_State *L, const meow_host_callbacks *callbacks) {
    meow_extra_of(L)->host = *callbacks;
}

size_t meow_memory_in_use(lua_State *L) { return meow_extra_of(L)->used; }

static int collect_k(lua_State *L) {
    (void)L;
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

int meow_collect(lua_State *L) { return run_protected(L, collect_k, NULL, 0); }

char *meow_scratch(lua_State *L, size_t size) {
    meow_extra *x = meow_extra_of(L);
    if (size + 1 > x->scratch_cap) {
        size_t cap = x->scratch_cap ? x->scratch_cap : 256;
        while (cap < size + 1) cap *= 2;
        char *p = (char *)realloc(x->scratch, cap);
        if (p == NULL) return NULL;
        x->scratch = p;
        x->scratch_cap = cap;
    }
    return x->scratch;
}

void meow_doc_generation(lua_State *L, uint32_t generation) { meow_extra_of(L)->generation = generation; }

void meow_free(void *p) { free(p); }

// MARK: - References

static int unref_k(lua_State *L) {
    int ref = (int)(intptr_t)lua_touserdata(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return 0;
}

void meow_unref(lua_State *L, int ref) {
    if (ref > 0) run_protected(L, unref_k, (void *)(intptr_t)ref, 0);
}

// MARK: - Privileged functions handed to the sandbox bootstrap (never to rules directly)

static int priv_now(lua_State *L) {
    lua_pushnumber(L, meow_extra_of(L)->now);
    return 1;
}

static int priv_print(lua_State *L) {
    meow_extra *x = meow_extra_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len = 0;
    const char *s = lua_tolstring(L, -1, &len);
    if (x->host.print) x->host.print(x->host.ctx, s, len);
    return 0;
}

static int priv_module(lua_State *L) {
    meow_extra *x = meow_extra_of(L);
    size_t len = 0;
    const char *name = luaL_checklstring(L, 1, &len);
    meow_value source = {0}, chunk = {0};
    if (x->host.module == NULL) {
        lua_pushnil(L);
        lua_pushliteral(L, "modules are not available here");
        return 2;
    }
    int rc = x->host.module(x->host.ctx, name, len, &source, &chunk);
    if (rc != 0) {
        lua_pushnil(L);
        lua_pushlstring(L, source.s ? source.s : "module not found", source.s ? source.len : 16);
        return 2;
    }
    lua_pushlstring(L, source.s, source.len);
    lua_pushlstring(L, chunk.s, chunk.len);
    return 2;
}

// load_text(source, chunkname, env): a text-only chunk whose _ENV is `env`; or nil, message.
static int priv_load_text(lua_State *L) {
    size_t len = 0;
    const char *src = luaL_checklstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int status = luaL_loadbufferx(L, src, len, name, "t");
    if (status != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (!lua_isnoneornil(L, 3)) {
        lua_pushvalue(L, 3);
        if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
    }
    return 1;
}

// where(level): source (without '@') and current line of the function at `level`.
static int priv_where(lua_State *L) {
    lua_Debug ar;
    int level = (int)luaL_optinteger(L, 1, 1);
    if (lua_getstack(L, level, &ar) && lua_getinfo(L, "Sl", &ar)) {
        const char *src = ar.source && ar.source[0] == '@' ? ar.source + 1 : ar.short_src;
        lua_pushstring(L, src);
        lua_pushinteger(L, ar.currentline);
        return 2;
    }
    return 0;
}

// find(mode, arg): mode 1 = the entity with id `arg` (or nil); mode 2 = the list of entities of kind `arg`.
static int priv_find(lua_State *L) {
    meow_extra *x = meow_extra_of(L);
    int mode = (int)luaL_checkinteger(L, 1);
    size_t len = 0;
    const char *arg = luaL_checklstring(L, 2, &len);
    if (x->host.find == NULL) return luaL_error(L, "no state is available here");
    int64_t total = x->host.find(x->host.ctx, mode, arg, len, NULL, 0);
    uint32_t *ids = NULL;
    if (total > 0) {
        ids = (uint32_t *)lua_newuserdatauv(L, sizeof(uint32_t) * (size_t)total, 0);
        total = x->host.find(x->host.ctx, mode, arg, len, ids, total);
    }
    if (mode == 1) {
        if (total > 0) meow_push_root(L, ids[0]);
        else lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, total > 0 ? (int)total : 0, 0);
    for (int64_t i = 0; i < total; i++) {
        meow_push_root(L, ids[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int priv_setmetatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int has_gc = lua_rawget(L, 2) != LUA_TNIL;
        lua_pop(L, 1);
        if (has_gc) return luaL_error(L, "__gc metamethods are not allowed in rules");
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int priv_collectgarbage(lua_State *L) {
    const char *opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage: only \"count\" is allowed in rules");
    size_t used = meow_extra_of(L)->used;
    lua_pushnumber(L, (lua_Number)used / 1024.0);
    return 1;
}

typedef struct {
    const char *source;
    size_t len;
    const char *chunkname;
} install_args;

static int install_k(lua_State *L) {
    install_args *a = (install_args *)lua_touserdata(L, 1);
    meow_extra *x = meow_extra_of(L);
    if (luaL_loadbufferx(L, a->source, a->len, a->chunkname, "t") != LUA_OK) return lua_error(L);
    // priv: the standard functions and libraries, plus meow's host functions.
    lua_newtable(L);
    lua_pushglobaltable(L);
    lua_setfield(L, -2, "base");
    static const char *const libs[] = {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME, LUA_COLIBNAME};
    for (int i = 0; i < 5; i++) {
        lua_getglobal(L, libs[i]);
        lua_setfield(L, -2, libs[i]);
    }
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_getfield(L, -1, "date");
    lua_setfield(L, -3, "date");
    lua_getfield(L, -1, "time");
    lua_setfield(L, -3, "time");
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);  // drops the package.loaded cache (and os)
    static const luaL_Reg host[] = {
        {"now", priv_now}, {"print", priv_print}, {"module", priv_module}, {"load_text", priv_load_text},
        {"where", priv_where}, {"find", priv_find}, {"setmetatable", priv_setmetatable},
        {"collectgarbage", priv_collectgarbage}, {NULL, NULL}};
    luaL_setfuncs(L, host, 0);
    lua_call(L, 1, 1);
    if (lua_type(L, -1) != LUA_TFUNCTION) return luaL_error(L, "sandbox bootstrap must return a function");
    x->env_factory_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    // Empty the real global table: nothing a leaked reference could reach through it.
    lua_pushglobaltable(L);
    for (;;) {
        lua_pushnil(L);
        if (!lua_next(L, -2)) break;
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    return 0;
}

int meow_sandbox_install(lua_State *L, const char *source, size_t len, const char *chunkname) {
    install_args a = {source, len, chunkname};
    return run_protected(L, install_k, &a, 0);
}

typedef struct {
    const char *kind;
    const char *filename;
    int ref;
} env_args;

static int env_k(lua_State *L) {
    env_args *a = (env_args *)lua_touserdata(L, 1);
    meow_extra *x = meow_extra_of(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->env_factory_ref);
    lua_pushstring(L, a->kind);
    lua_pushstring(L, a->filename);
    lua_call(L, 2, 1);
    if (lua_type(L, -1) != LUA_TTABLE) return luaL_error(L, "environment factory must return a table");
    a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int meow_env_new(lua_State *L, const char *kind, const char *filename, int *ref_out) {
    env_args a = {kind, filename, 0};
    int status = run_protected(L, env_k, &a, 0);
    *ref_out = a.ref;
    return status;
}

typedef struct {
    const char *source;
    size_t len;
    const char *chunkname;
    int env_ref;
    int ref;
} load_args;

static int load_k(lua_State *L) {
    load_args *a = (load_args *)lua_touserdata(L, 1);
    if (luaL_loadbufferx(L, a->source, a->len, a->chunkname, "t") != LUA_OK) return lua_error(L);
    if (a->env_ref > 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, a->env_ref);
        if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
    }
    a->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int meow_load(lua_State *L, const char *source, size_t len, const char *chunkname, int env_ref, int *ref_out) {
    load_args a = {source, len, chunkname, env_ref, 0};
    int status = run_protected(L, load_k, &a, 0);
    *ref_out = a.ref;
    return status;
}

typedef struct {
    int env_ref;
    const char *name;
    int ref;
} envget_args;

static int envget_k(lua_State *L) {
    envget_args *a = (envget_args *)lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->env_ref);
    lua_pushstring(L, a->name);
    lua_rawget(L, -2);
    a->ref = lua_isnil(L, -1) ? 0 : luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

int meow_env_get(lua_State *L, int env_ref, const char *name, int *ref_out) {
    envget_args a = {env_ref, name, 0};
    int status = run_protected(L, envget_k, &a, 0);
    *ref_out = a.ref;
    return status;
}

// MARK: - Calls

typedef struct {
    int fn_ref;
    const meow_arg *args;
    int nargs;
    uint8_t *out;
    size_t outlen;
} call_args;

static int call_k(lua_State *L) {
    call_args *a = (call_args *)lua_touserdata(L, 1);
    luaL_checkstack(L, a->nargs + 2, "too many arguments");
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->fn_ref);
    for (int i = 0; i < a->nargs; i++) {
        const meow_arg *arg = &a->args[i];
        switch (arg->kind) {
        case MEOW_ARG_REF: lua_rawgeti(L, LUA_REGISTRYINDEX, arg->ref); break;
        case MEOW_ARG_ENTITY: meow_push_root(L, arg->node); break;
        case MEOW_ARG_INT: lua_pushinteger(L, arg->i); break;
        case MEOW_ARG_NUM: lua_pushnumber(L, arg->n); break;
        case MEOW_ARG_PACK:
            if (!meow_unpack_value(L, arg->pack, arg->packlen)) return luaL_error(L, "malformed packed argument");
            break;
        default: lua_pushnil(L);
        }
    }
    lua_call(L, a->nargs, 1);
    if (!meow_pack_value(L, -1, &a->out, &a->outlen)) return luaL_error(L, "result could not be converted");
    return 0;
}

int meow_call(lua_State *L, int fn_ref, const meow_arg *args, int nargs, uint8_t **out, size_t *outlen) {
    call_args a = {fn_ref, args, nargs, NULL, 0};
    int status = run_protected(L, call_k, &a, 0);
    if (status != LUA_OK) {
        free(a.out);
        a.out = NULL;
        a.outlen = 0;
    }
    if (out) *out = a.out; else free(a.out);
    if (outlen) *outlen = a.outlen;
    return status;
}
