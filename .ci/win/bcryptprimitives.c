/*
 * bcryptprimitives.dll for Wine prefixes that lack it (Debian's Wine 8.0).
 *
 * Rust's standard library on Windows imports ProcessPrng from bcryptprimitives.dll; without the
 * DLL every Rust program exits at once. This stand-in exports ProcessPrng and fills the buffer
 * from advapi32's RtlGenRandom (exported as SystemFunction036), Wine's system random source.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c
 */
#include <windows.h>

typedef BOOLEAN (WINAPI *rtl_gen_random_fn)(PVOID, ULONG);

static rtl_gen_random_fn rtl_gen_random(void)
{
    static rtl_gen_random_fn fn;
    if (!fn) {
        HMODULE advapi = LoadLibraryA("advapi32.dll");
        if (advapi)
            fn = (rtl_gen_random_fn)(void *)GetProcAddress(advapi, "SystemFunction036");
    }
    return fn;
}

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    rtl_gen_random_fn fn = rtl_gen_random();
    if (!fn)
        return FALSE;
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!fn(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return TRUE;
}
