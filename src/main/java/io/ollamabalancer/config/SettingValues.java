package io.ollamabalancer.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Parsers for single setting values, each throwing a {@link ConfigException} whose message says what was expected.
 * Stateless and thread-safe.
 */
final class SettingValues {
    /** The dispatch policies the scheduler knows, by their configuration names. */
    static final List<String> POLICIES = List.of("eft", "least-connections", "least-connections-late", "round-robin",
            "legacy");

    /**
     * Cluster namespaces: they become the Redis Cluster hash tag {@code {namespace}}, so braces are out; the colon
     * is allowed because it is Redis's usual separator ({@code ollama-balancer:staging}).
     */
    private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    /** Replica ids: part of Redis keys and of the cluster thread's name; the cluster ledger accepts exactly these. */
    private static final Pattern REPLICA_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /**
     * The lease's lower bound is four Redis command timeouts (500 ms each), which the cluster needs so renewals
     * (every third of the lease) may fail and be retried before the lease runs out. The upper bound is how long a
     * dead replica's slots may stay reserved: beyond minutes, a crash would idle backends for too long.
     */
    private static final Duration MIN_LEASE = Duration.ofSeconds(2);
    private static final Duration MAX_LEASE = Duration.ofMinutes(5);

    private SettingValues() {
    }

    static String host(String v) {
        if (v.isEmpty() || v.chars().anyMatch(c -> Character.isWhitespace(c) || c == '/')) {
            throw new ConfigException("invalid address \"" + v + "\" (expected a host name or IP, e.g. 0.0.0.0)");
        }
        return v;
    }

    static int port(String v) {
        int p = integer(v, "port");
        if (p < 0 || p > 65535) {
            throw new ConfigException("port " + p + " is out of range (expected 0-65535)");
        }
        return p;
    }

    static int atLeast(String v, int min) {
        int n = integer(v, "number");
        if (n < min) {
            throw new ConfigException("must be at least " + min + ", found " + n);
        }
        return n;
    }

    static long positiveSize(String v) {
        long n = Sizes.parseBytes(v);
        if (n <= 0) {
            throw new ConfigException("size must be greater than zero");
        }
        return n;
    }

    static int intSize(String v) {
        long n = positiveSize(v);
        if (n > Integer.MAX_VALUE) {
            throw new ConfigException("size \"" + v + "\" is too large (at most 2047MB)");
        }
        return (int) n;
    }

    static Duration positiveDuration(String v) {
        Duration d = Durations.parse(v);
        if (d.isZero() || d.isNegative()) {
            throw new ConfigException("duration must be greater than zero");
        }
        return d;
    }

    static Duration nonNegativeDuration(String v) {
        return Durations.parse(v);
    }

    static Path path(String v) {
        try {
            return Path.of(v);
        } catch (InvalidPathException e) {
            throw new ConfigException("invalid path \"" + v + "\": " + e.getReason());
        }
    }

    static String policy(String v) {
        String p = v.toLowerCase(Locale.ROOT).replace('_', '-');
        if (!POLICIES.contains(p)) {
            throw new ConfigException("unknown policy \"" + v + "\" (expected eft, least-connections, round-robin"
                    + " or legacy)");
        }
        return p;
    }

    /** A comma-separated list; blanks around and between items are dropped, so {@code ""} is empty. */
    static List<String> list(String v) {
        return java.util.Arrays.stream(v.split(",")).map(String::strip).filter(x -> !x.isEmpty()).distinct()
                .toList();
    }

    static boolean onOff(String v) {
        switch (v.toLowerCase(Locale.ROOT)) {
            case "on", "true":
                return true;
            case "off", "false":
                return false;
            default:
                throw new ConfigException("invalid value \"" + v + "\" (expected on or off)");
        }
    }

    static String redisUrl(String v) {
        try {
            URI uri = new URI(v);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            boolean plain = scheme.equals("redis") || scheme.equals("rediss");
            boolean other = scheme.equals("redis-sentinel") || scheme.equals("redis-socket");
            if (!(plain || other) || (plain && (uri.getHost() == null || uri.getHost().isEmpty()))) {
                throw new ConfigException("invalid Redis URL \"" + v + "\" (expected redis://host:port)");
            }
            return v;
        } catch (URISyntaxException e) {
            throw new ConfigException("invalid Redis URL \"" + v + "\" (expected redis://host:port)");
        }
    }

    static String clusterNamespace(String v) {
        return name(v, NAMESPACE, "cluster namespace", "letters, digits, . _ - :");
    }

    static String replicaId(String v) {
        return name(v, REPLICA_ID, "replica id", "letters, digits, . _ -");
    }

    static Duration clusterLease(String v) {
        Duration d = Durations.parse(v);
        if (d.compareTo(MIN_LEASE) < 0 || d.compareTo(MAX_LEASE) > 0) {
            throw new ConfigException("lease " + Durations.format(d) + " is out of range (expected "
                    + Durations.format(MIN_LEASE) + " to " + Durations.format(MAX_LEASE) + ")");
        }
        return d;
    }

    private static String name(String v, Pattern allowed, String what, String characters) {
        if (!allowed.matcher(v).matches()) {
            throw new ConfigException("invalid " + what + " \"" + v + "\" (expected 1-64 " + characters + ")");
        }
        return v;
    }

    private static int integer(String v, String what) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ConfigException("invalid " + what + " \"" + v + "\" (expected a whole number)");
        }
    }
}
