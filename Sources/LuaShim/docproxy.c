// Read-only entity proxies: userdata whose fields are looked up in the host's documents on access.
//
// Why userdata and not tables: a table can be changed with rawset whatever its metatable says, and a
// shared table would let one rule change what another sees. A userdata has no fields of its own, so
// a proxy is read-only by construction, and nothing of the snapshot is copied into Lua ahead of use.
// Each proxy remembers the document generation it was made in; after the host moves to a new
// snapshot, old proxies refuse access instead of reading freed memory.
#include "internal.h"

#include <string.h>

#define META_OBJECT "meow.entity"
#define META_ARRAY "meow.list"

typedef struct {
    uint32_t generation;
    uint32_t node;
    int is_array;
} proxy;

// Stands for nil in a proxy's cache (a table can't hold nil).
static char nil_sentinel;

static proxy *to_proxy(lua_State *L, int idx) {
    meow_extra *x = meow_extra_of(L);
    if (lua_type(L, idx) != LUA_TUSERDATA || x->meta_object == NULL) return NULL;
    if (!lua_getmetatable(L, idx)) return NULL;
    const void *mt = lua_topointer(L, -1);
    lua_pop(L, 1);
    if (mt != x->meta_object && mt != x->meta_array) return NULL;
    return (proxy *)lua_touserdata(L, idx);
}

static proxy *check_live(lua_State *L, int idx) {
    proxy *p = to_proxy(L, idx);
    if (p == NULL) luaL_error(L, "entity proxy expected");
    if (p->generation != meow_extra_of(L)->generation)
        luaL_error(L, "entity data from an earlier evaluation is no longer available");
    return p;
}

int meow_proxy_node(lua_State *L, int idx, uint32_t *node) {
    proxy *p = to_proxy(L, idx);
    if (p == NULL) return 0;
    *node = p->node;
    return 1;
}

void meow_push_value(lua_State *L, const meow_value *v) {
    switch (v->type) {
    case MEOW_V_FALSE: lua_pushboolean(L, 0); break;
    case MEOW_V_TRUE: lua_pushboolean(L, 1); break;
    case MEOW_V_INT: lua_pushinteger(L, v->i); break;
    case MEOW_V_NUM: lua_pushnumber(L, v->n); break;
    case MEOW_V_STR: lua_pushlstring(L, v->s ? v->s : "", v->len); break;
    case MEOW_V_OBJECT: meow_push_proxy(L, v->node, 0); break;
    case MEOW_V_ARRAY: meow_push_proxy(L, v->node, 1); break;
    default: lua_pushnil(L);
    }
}

static int proxy_index(lua_State *L) {
    proxy *p = check_live(L, 1);
    meow_extra *x = meow_extra_of(L);
    // Every field read is cached in the proxy's user value: the host is asked once per field per cycle,
    // nested proxies keep their identity (`a.labels == a.labels`), and since root proxies are shared by
    // all rules of a cycle, later rules read from Lua tables only. The cache is unreachable from Lua.
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
        lua_pushvalue(L, 2);
        int t = lua_rawget(L, -2);
        if (t != LUA_TNIL) {
            if (t == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == &nil_sentinel) lua_pushnil(L);
            return 1;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    meow_value v;
    memset(&v, 0, sizeof v);
    int rc;
    int kt = lua_type(L, 2);
    if (kt == LUA_TSTRING) {
        size_t len = 0;
        const char *k = lua_tolstring(L, 2, &len);
        rc = x->doc.lookup(x->doc.ctx, p->node, k, len, 0, &v);
    } else if (kt == LUA_TNUMBER) {
        lua_Integer i;
        if (lua_isinteger(L, 2)) {
            i = lua_tointegerx(L, 2, NULL);
        } else {
            lua_Number n = lua_tonumberx(L, 2, NULL);
            if (n != (lua_Number)(lua_Integer)n) {
                lua_pushnil(L);
                return 1;
            }
            i = (lua_Integer)n;
        }
        rc = x->doc.lookup(x->doc.ctx, p->node, NULL, 0, i, &v);
    } else {
        lua_pushnil(L);
        return 1;
    }
    if (rc != 0) {
        lua_pushlstring(L, v.s ? v.s : "lookup failed", v.s ? v.len : 13);
        return lua_error(L);
    }
    meow_push_value(L, &v);
    if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 4);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 1);
    }
    lua_pushvalue(L, 2);
    if (v.type == MEOW_V_NIL) lua_pushlightuserdata(L, &nil_sentinel);
    else lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return 1;
}

static int proxy_newindex(lua_State *L) {
    return luaL_error(L, "entity data is read-only (tried to set field '%s')",
                      lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_typename(L, 2));
}

static int proxy_len(lua_State *L) {
    proxy *p = check_live(L, 1);
    meow_extra *x = meow_extra_of(L);
    lua_pushinteger(L, x->doc.length(x->doc.ctx, p->node));
    return 1;
}

static int proxy_next(lua_State *L) {
    proxy *p = check_live(L, 1);
    meow_extra *x = meow_extra_of(L);
    lua_Integer position = lua_tointegerx(L, lua_upvalueindex(1), NULL);
    meow_value k, v;
    memset(&k, 0, sizeof k);
    memset(&v, 0, sizeof v);
    if (!x->doc.entry(x->doc.ctx, p->node, position, &k, &v)) return 0;
    lua_pushinteger(L, position + 1);
    lua_replace(L, lua_upvalueindex(1));
    meow_push_value(L, &k);
    if (k.type == MEOW_V_STR && (v.type == MEOW_V_OBJECT || v.type == MEOW_V_ARRAY)) {
        // go through __index so nested proxies keep their identity
        lua_pushvalue(L, 1);
        lua_pushvalue(L, -2);
        lua_gettable(L, -2);
        lua_remove(L, -2);
        return 2;
    }
    meow_push_value(L, &v);
    return 2;
}

static int proxy_pairs(lua_State *L) {
    check_live(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, proxy_next, 1);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int proxy_tostring(lua_State *L) {
    proxy *p = check_live(L, 1);
    meow_extra *x = meow_extra_of(L);
    meow_value v;
    memset(&v, 0, sizeof v);
    if (x->doc.describe && x->doc.describe(x->doc.ctx, p->node, &v) == 0 && v.type == MEOW_V_STR) {
        lua_pushlstring(L, v.s, v.len);
    } else {
        lua_pushfstring(L, "%s: %d", p->is_array ? "list" : "entity", (int)p->node);
    }
    return 1;
}

static int proxy_eq(lua_State *L) {
    proxy *a = to_proxy(L, 1), *b = to_proxy(L, 2);
    lua_pushboolean(L, a && b && a->node == b->node && a->generation == b->generation);
    return 1;
}

static void make_metatable(lua_State *L, const char *name) {
    static const luaL_Reg methods[] = {
        {"__index", proxy_index}, {"__newindex", proxy_newindex}, {"__len", proxy_len},
        {"__pairs", proxy_pairs}, {"__tostring", proxy_tostring}, {"__eq", proxy_eq}, {NULL, NULL}};
    if (luaL_newmetatable(L, name)) {
        luaL_setfuncs(L, methods, 0);
        lua_pushstring(L, name);
        lua_setfield(L, -2, "__metatable");
    }
}

void meow_push_proxy(lua_State *L, uint32_t node, int is_array) {
    meow_extra *x = meow_extra_of(L);
    if (x->meta_object_ref == 0) {
        make_metatable(L, META_OBJECT);
        x->meta_object = lua_topointer(L, -1);
        x->meta_object_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        make_metatable(L, META_ARRAY);
        x->meta_array = lua_topointer(L, -1);
        x->meta_array_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    proxy *p = (proxy *)lua_newuserdatauv(L, sizeof(proxy), 1);
    p->generation = x->generation;
    p->node = node;
    p->is_array = is_array;
    lua_rawgeti(L, LUA_REGISTRYINDEX, is_array ? x->meta_array_ref : x->meta_object_ref);
    lua_setmetatable(L, -2);
}

void meow_push_root(lua_State *L, uint32_t node) {
    meow_extra *x = meow_extra_of(L);
    // One proxy per root entity per generation, shared by every rule (proxies are read-only).
    if (x->roots_ref == 0 || x->roots_generation != x->generation) {
        if (x->roots_ref != 0) luaL_unref(L, LUA_REGISTRYINDEX, x->roots_ref);
        x->roots_ref = 0;
        lua_createtable(L, 0, 0);
        x->roots_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        x->roots_generation = x->generation;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->roots_ref);
    if (lua_rawgeti(L, -1, (lua_Integer)node + 1) == LUA_TNIL) {
        lua_pop(L, 1);
        meow_push_proxy(L, node, 0);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, (lua_Integer)node + 1);
    }
    lua_remove(L, -2);
}
