// Packing Lua values into bytes for the host, and unpacking host values into Lua tables.
//
// Packing reads raw (lua_next, lua_rawgeti): no __index, __pairs, __len or __tostring of a value a rule
// returns is ever called, so a hostile metatable can't run code in the host. Depth, count and size are
// bounded, which also stops cycles.
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define PACK_MAX_DEPTH 48
#define PACK_MAX_ITEMS 2000000
#define PACK_MAX_BYTES ((size_t)128 * 1024 * 1024)

typedef struct {
    lua_State *L;
    uint8_t **buf;
    size_t *len;
    size_t cap;
    size_t items;
} packer;

static void need(packer *pk, size_t n) {
    if (*pk->len + n > PACK_MAX_BYTES) luaL_error(pk->L, "value too large to return (over %d MiB)", (int)(PACK_MAX_BYTES >> 20));
    if (*pk->len + n <= pk->cap) return;
    size_t cap = pk->cap ? pk->cap : 256;
    while (cap < *pk->len + n) cap *= 2;
    uint8_t *p = (uint8_t *)realloc(*pk->buf, cap);
    if (p == NULL) luaL_error(pk->L, "not enough memory to return a value");
    *pk->buf = p;
    pk->cap = cap;
}

static void put_byte(packer *pk, uint8_t b) {
    need(pk, 1);
    (*pk->buf)[(*pk->len)++] = b;
}

static void put_u32(packer *pk, uint32_t v) {
    need(pk, 4);
    for (int i = 0; i < 4; i++) (*pk->buf)[(*pk->len)++] = (uint8_t)(v >> (8 * i));
}

static void put_u64(packer *pk, uint64_t v) {
    need(pk, 8);
    for (int i = 0; i < 8; i++) (*pk->buf)[(*pk->len)++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(packer *pk, const char *s, size_t n) {
    if (n > 0xffffffffu) luaL_error(pk->L, "string too large to return");
    put_u32(pk, (uint32_t)n);
    need(pk, n);
    memcpy(*pk->buf + *pk->len, s, n);
    *pk->len += n;
}

static void put_number_key(packer *pk, lua_State *L, int idx) {
    char tmp[64];
    int n;
    if (lua_isinteger(L, idx)) n = snprintf(tmp, sizeof tmp, "%lld", (long long)lua_tointegerx(L, idx, NULL));
    else n = snprintf(tmp, sizeof tmp, "%.14g", lua_tonumberx(L, idx, NULL));
    put_bytes(pk, tmp, (size_t)n);
}

static void pack_at(packer *pk, int idx, int depth);

static void pack_table(packer *pk, int idx, int depth) {
    lua_State *L = pk->L;
    if (depth > PACK_MAX_DEPTH) luaL_error(L, "value nested too deeply (over %d levels; is it cyclic?)", PACK_MAX_DEPTH);
    luaL_checkstack(L, 4, "value nested too deeply");
    idx = lua_absindex(L, idx);
    // First pass: count entries and check whether the keys are exactly 1..n.
    size_t count = 0;
    int is_array = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        if (is_array) {
            if (!lua_isinteger(L, -2)) is_array = 0;
            else {
                lua_Integer k = lua_tointegerx(L, -2, NULL);
                if (k < 1) is_array = 0;
            }
        }
        lua_pop(L, 1);
        if (count > PACK_MAX_ITEMS) luaL_error(L, "value too large to return (over %d entries)", PACK_MAX_ITEMS);
    }
    if (count == 0) {
        put_byte(pk, 'e');
        return;
    }
    if (is_array && lua_rawlen(L, idx) != count) is_array = 0;
    if (is_array) {
        for (size_t i = 1; i <= count; i++) {
            if (lua_rawgeti(L, idx, (lua_Integer)i) == LUA_TNIL) {
                is_array = 0;
                lua_pop(L, 1);
                break;
            }
            lua_pop(L, 1);
        }
    }
    pk->items += count;
    if (pk->items > PACK_MAX_ITEMS) luaL_error(L, "value too large to return (over %d entries)", PACK_MAX_ITEMS);
    if (is_array) {
        put_byte(pk, 'a');
        put_u32(pk, (uint32_t)count);
        for (size_t i = 1; i <= count; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i);
            pack_at(pk, -1, depth + 1);
            lua_pop(L, 1);
        }
        return;
    }
    put_byte(pk, 'o');
    put_u32(pk, (uint32_t)count);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        switch (lua_type(L, -2)) {
        case LUA_TSTRING: {
            size_t kl = 0;
            const char *k = lua_tolstring(L, -2, &kl);
            put_bytes(pk, k, kl);
            break;
        }
        case LUA_TNUMBER: put_number_key(pk, L, -2); break;
        case LUA_TBOOLEAN: {
            const char *k = lua_toboolean(L, -2) ? "true" : "false";
            put_bytes(pk, k, strlen(k));
            break;
        }
        default: {
            const char *k = lua_typename(L, lua_type(L, -2));
            put_bytes(pk, k, strlen(k));
        }
        }
        pack_at(pk, -1, depth + 1);
        lua_pop(L, 1);
    }
}

static void pack_at(packer *pk, int idx, int depth) {
    lua_State *L = pk->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: put_byte(pk, 'n'); break;
    case LUA_TBOOLEAN: put_byte(pk, lua_toboolean(L, idx) ? 't' : 'f'); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            put_byte(pk, 'i');
            put_u64(pk, (uint64_t)lua_tointegerx(L, idx, NULL));
        } else {
            lua_Number n = lua_tonumberx(L, idx, NULL);
            uint64_t bits;
            memcpy(&bits, &n, sizeof bits);
            put_byte(pk, 'd');
            put_u64(pk, bits);
        }
        break;
    case LUA_TSTRING: {
        size_t len = 0;
        const char *s = lua_tolstring(L, idx, &len);
        put_byte(pk, 's');
        put_bytes(pk, s, len);
        break;
    }
    case LUA_TTABLE: pack_table(pk, idx, depth); break;
    case LUA_TUSERDATA: {
        uint32_t node;
        if (meow_proxy_node(L, idx, &node)) {
            put_byte(pk, 'r');
            put_u32(pk, node);
            break;
        }
        put_byte(pk, 'x');
        put_bytes(pk, "userdata", 8);
        break;
    }
    default: {
        const char *t = lua_typename(L, lua_type(L, idx));
        put_byte(pk, 'x');
        put_bytes(pk, t, strlen(t));
    }
    }
}

int meow_pack_value(lua_State *L, int idx, uint8_t **out, size_t *outlen) {
    packer pk = {L, out, outlen, 0, 0};
    *out = NULL;
    *outlen = 0;
    pack_at(&pk, lua_absindex(L, idx), 0);
    return 1;
}

// MARK: - Unpacking

typedef struct {
    lua_State *L;
    const uint8_t *p;
    const uint8_t *end;
} reader;

static int get_u32(reader *r, uint32_t *v) {
    if (r->end - r->p < 4) return 0;
    *v = 0;
    for (int i = 0; i < 4; i++) *v |= (uint32_t)r->p[i] << (8 * i);
    r->p += 4;
    return 1;
}

static int get_u64(reader *r, uint64_t *v) {
    if (r->end - r->p < 8) return 0;
    *v = 0;
    for (int i = 0; i < 8; i++) *v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return 1;
}

static int unpack_one(reader *r, int depth) {
    lua_State *L = r->L;
    if (r->p >= r->end || depth > PACK_MAX_DEPTH) return 0;
    luaL_checkstack(L, 3, "value nested too deeply");
    uint8_t tag = *r->p++;
    uint32_t n;
    uint64_t u;
    switch (tag) {
    case 'n': lua_pushnil(L); return 1;
    case 't': lua_pushboolean(L, 1); return 1;
    case 'f': lua_pushboolean(L, 0); return 1;
    case 'i':
        if (!get_u64(r, &u)) return 0;
        lua_pushinteger(L, (lua_Integer)u);
        return 1;
    case 'd': {
        if (!get_u64(r, &u)) return 0;
        double d;
        memcpy(&d, &u, sizeof d);
        lua_pushnumber(L, d);
        return 1;
    }
    case 's':
        if (!get_u32(r, &n) || (size_t)(r->end - r->p) < n) return 0;
        lua_pushlstring(L, (const char *)r->p, n);
        r->p += n;
        return 1;
    case 'e': lua_newtable(L); return 1;
    case 'a':
        if (!get_u32(r, &n)) return 0;
        lua_createtable(L, (int)(n > 1000000 ? 0 : n), 0);
        for (uint32_t i = 1; i <= n; i++) {
            if (!unpack_one(r, depth + 1)) return 0;
            lua_rawseti(L, -2, i);
        }
        return 1;
    case 'o':
        if (!get_u32(r, &n)) return 0;
        lua_createtable(L, 0, (int)(n > 1000000 ? 0 : n));
        for (uint32_t i = 0; i < n; i++) {
            uint32_t kl;
            if (!get_u32(r, &kl) || (size_t)(r->end - r->p) < kl) return 0;
            lua_pushlstring(L, (const char *)r->p, kl);
            r->p += kl;
            if (!unpack_one(r, depth + 1)) return 0;
            lua_rawset(L, -3);
        }
        return 1;
    case 'r':
        if (!get_u32(r, &n)) return 0;
        meow_push_proxy(L, n, 0);
        return 1;
    default:
        return 0;
    }
}

int meow_unpack_value(lua_State *L, const uint8_t *buf, size_t len) {
    reader r = {L, buf, buf + len};
    int top = lua_gettop(L);
    if (!unpack_one(&r, 0) || r.p != r.end) {
        lua_settop(L, top);
        return 0;
    }
    return 1;
}
