package io.ollamabalancer.sim;

/** A 64-bit hash of request bytes (FNV-1a, then a SplitMix64 finaliser to spread the bits). Stateless. */
final class BodyHash {
    private BodyHash() {
    }

    static long of(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    static long of(String s) {
        return of(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
