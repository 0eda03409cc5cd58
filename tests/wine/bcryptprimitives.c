/*
 * bcryptprimitives.dll for Wine 8.0 only (Debian 12's Wine lacks it).
 *
 * Rust's standard library asks bcryptprimitives.dll for ProcessPrng, which
 * every Windows 10 and 11 has. Wine 8.0 does not ship the DLL, so without
 * this stand-in no Rust program starts under it. The test harness builds it
 * with mingw-w64 and puts it into the test's own Wine prefix; nothing shipped
 * to users contains or needs it.
 *
 * ProcessPrng is answered from the system RNG through bcrypt.dll, which Wine
 * does implement.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
