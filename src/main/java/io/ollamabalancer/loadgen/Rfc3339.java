package io.ollamabalancer.loadgen;

/**
 * Parses the RFC 3339 timestamps Ollama writes in {@code created_at} ({@code 2025-10-26T17:15:24.097767123Z}, or
 * with a {@code ±hh:mm} offset) into nanoseconds since the epoch, without allocating: it runs once per streamed
 * chunk. Stateless and thread-safe.
 */
public final class Rfc3339 {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private Rfc3339() {
    }

    /**
     * @throws IllegalArgumentException if {@code s} is not {@code yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm)}
     */
    public static long epochNanos(CharSequence s) {
        int n = s.length();
        if (n < 20 || s.charAt(4) != '-' || s.charAt(7) != '-' || (s.charAt(10) != 'T' && s.charAt(10) != 't')
                || s.charAt(13) != ':' || s.charAt(16) != ':') {
            throw bad(s);
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
            throw bad(s);
        }
        int i = 19;
        long nanos = 0;
        if (s.charAt(i) == '.') {
            int start = ++i;
            long scale = NANOS_PER_SECOND;
            while (i < n && Character.isDigit(s.charAt(i))) {
                if (i - start < 9) {
                    scale /= 10;
                    nanos += (s.charAt(i) - '0') * scale;
                }
                i++;
            }
            if (i == start) {
                throw bad(s);
            }
        }
        long offsetSeconds = offset(s, i);
        long seconds = daysFromCivil(year, month, day) * 86_400L + hour * 3600L + minute * 60L + second
                - offsetSeconds;
        return seconds * NANOS_PER_SECOND + nanos;
    }

    private static long offset(CharSequence s, int i) {
        int n = s.length();
        if (i == n - 1 && (s.charAt(i) == 'Z' || s.charAt(i) == 'z')) {
            return 0;
        }
        if (i + 6 != n || (s.charAt(i) != '+' && s.charAt(i) != '-') || s.charAt(i + 3) != ':') {
            throw bad(s);
        }
        long seconds = digits(s, i + 1, 2) * 3600L + digits(s, i + 4, 2) * 60L;
        return s.charAt(i) == '-' ? -seconds : seconds;
    }

    /** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
    static long daysFromCivil(int year, int month, int day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }

    private static int digits(CharSequence s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                throw bad(s);
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static IllegalArgumentException bad(CharSequence s) {
        return new IllegalArgumentException("not an RFC 3339 timestamp: " + s);
    }
}
