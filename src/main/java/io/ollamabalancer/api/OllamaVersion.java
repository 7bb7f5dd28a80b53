package io.ollamabalancer.api;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A semantic version as {@code /api/version} reports it ({@code 0.12.0}, {@code 0.33.0-rc2}), ordered by
 * semver precedence: numeric core first, a pre-release below its release, build metadata ignored. Immutable.
 */
record OllamaVersion(String text, long major, long minor, long patch, String preRelease)
        implements Comparable<OllamaVersion> {

    private static final Pattern SEMVER = Pattern.compile(
            "v?(\\d{1,18})\\.(\\d{1,18})\\.(\\d{1,18})(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z.-]+)?");

    /** The version, or {@code null} when the text is not a semantic version. */
    static OllamaVersion parse(String text) {
        if (text == null) {
            return null;
        }
        Matcher m = SEMVER.matcher(text.trim());
        if (!m.matches()) {
            return null;
        }
        return new OllamaVersion(text, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
                Long.parseLong(m.group(3)), m.group(4));
    }

    @Override
    public int compareTo(OllamaVersion o) {
        int c = Long.compare(major, o.major);
        if (c == 0) {
            c = Long.compare(minor, o.minor);
        }
        if (c == 0) {
            c = Long.compare(patch, o.patch);
        }
        return c != 0 ? c : comparePreRelease(preRelease, o.preRelease);
    }

    private static int comparePreRelease(String a, String b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : 1) : -1; // a release ranks above its pre-releases
        }
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c = compareIdentifier(x[i], y[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(x.length, y.length);
    }

    private static int compareIdentifier(String a, String b) {
        boolean an = a.chars().allMatch(Character::isDigit);
        boolean bn = b.chars().allMatch(Character::isDigit);
        if (an && bn) {
            int c = Integer.compare(a.length(), b.length()); // numeric, without overflow: longer is larger
            return c != 0 ? c : a.compareTo(b);
        }
        if (an != bn) {
            return an ? -1 : 1; // numeric identifiers rank below alphanumeric ones
        }
        return a.compareTo(b);
    }
}
