package io.ollamabalancer.cluster;

import io.lettuce.core.RedisURI;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where Redis is, parsed from {@code --redis-url}. Immutable.
 *
 * <p>Accepted forms (the first four are Lettuce's own {@link RedisURI#create(String)} syntax):
 * <ul>
 *   <li>{@code redis://[[user:]password@]host[:port][/database]} — one server;</li>
 *   <li>{@code rediss://…} — the same over TLS;</li>
 *   <li>{@code redis-sentinel://[[user:]password@]host1[:port1][,host2[:port2]…][/database]#masterId} — Sentinel:
 *       the sentinels are asked for the current master of {@code masterId}, and Lettuce follows fail-overs;</li>
 *   <li>{@code rediss-sentinel://…} — Sentinel with TLS;</li>
 *   <li>{@code redis-cluster://[[user:]password@]host1[:port1][,host2[:port2]…]} (or {@code rediss-cluster://}) —
 *       Redis Cluster, given any seed nodes. This scheme is the balancer's own: Lettuce has none for Cluster, so
 *       each seed becomes a {@code redis://} URI with the same credentials. Every key the balancer writes carries
 *       the same hash tag, so all of them (and every script) live in one hash slot on one shard.</li>
 * </ul>
 *
 * @param mode    which Lettuce client to build
 * @param uris    one URI (standalone, sentinel: the URI carries the sentinels) or the cluster's seed nodes
 * @param display the URL with any password masked, for logs
 */
public record RedisTarget(Mode mode, List<RedisURI> uris, String display) {

    /** How the balancer reaches Redis. */
    public enum Mode { STANDALONE, SENTINEL, CLUSTER }

    public RedisTarget {
        uris = List.copyOf(uris);
        if (uris.isEmpty()) {
            throw new IllegalArgumentException("no Redis host in " + display);
        }
    }

    /** Parses a Redis URL; throws {@link IllegalArgumentException} with the reason when it is not one. */
    public static RedisTarget parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("empty Redis URL");
        }
        String u = url.trim();
        int colon = u.indexOf("://");
        if (colon < 0) {
            throw new IllegalArgumentException("Redis URL needs a scheme (redis://, rediss://, redis-sentinel://, "
                    + "redis-cluster://): " + mask(u));
        }
        String scheme = u.substring(0, colon).toLowerCase(Locale.ROOT);
        if (scheme.equals("redis-cluster") || scheme.equals("rediss-cluster")) {
            return parseCluster(u, scheme.startsWith("rediss"), colon + 3);
        }
        if (scheme.endsWith("-sentinel") && u.indexOf('#') < 0) {
            throw new IllegalArgumentException("a redis-sentinel URL needs #masterId at its end: " + mask(u));
        }
        RedisURI uri;
        try {
            uri = RedisURI.create(u);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a Redis URL: " + mask(u) + " (" + e.getMessage() + ")", e);
        }
        Mode mode = uri.getSentinels().isEmpty() ? Mode.STANDALONE : Mode.SENTINEL;
        if (mode == Mode.SENTINEL && (uri.getSentinelMasterId() == null || uri.getSentinelMasterId().isBlank())) {
            throw new IllegalArgumentException("a redis-sentinel URL needs #masterId at its end: " + mask(u));
        }
        if (mode == Mode.STANDALONE && uri.getSocket() == null && (uri.getHost() == null || uri.getHost().isBlank())) {
            throw new IllegalArgumentException("no host in Redis URL " + mask(u));
        }
        return new RedisTarget(mode, List.of(uri), mask(u));
    }

    private static RedisTarget parseCluster(String u, boolean tls, int start) {
        String rest = u.substring(start);
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            String tail = rest.substring(slash + 1);
            if (!tail.isEmpty() && !tail.equals("0")) {
                throw new IllegalArgumentException("Redis Cluster has only database 0: " + mask(u));
            }
            rest = rest.substring(0, slash);
        }
        String userInfo = "";
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            userInfo = rest.substring(0, at + 1);
            rest = rest.substring(at + 1);
        }
        List<RedisURI> seeds = new ArrayList<>();
        for (String hostPort : rest.split(",")) {
            String hp = hostPort.trim();
            if (hp.isEmpty()) {
                continue;
            }
            try {
                seeds.add(RedisURI.create((tls ? "rediss://" : "redis://") + userInfo + hp));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("bad cluster seed '" + hp + "' in " + mask(u), e);
            }
        }
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException("no seed node in " + mask(u));
        }
        return new RedisTarget(Mode.CLUSTER, seeds, mask(u));
    }

    /** Replaces the password part of a URL's user info with {@code ***}. */
    static String mask(String url) {
        int s = url.indexOf("://");
        int at = url.lastIndexOf('@');
        if (s < 0 || at < s) {
            return url;
        }
        String info = url.substring(s + 3, at);
        int c = info.indexOf(':');
        String masked = c >= 0 ? info.substring(0, c) + ":***" : "***";
        return url.substring(0, s + 3) + masked + url.substring(at);
    }

    @Override
    public String toString() {
        return display;
    }
}
