package io.ollamabalancer.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The Lettuce side of the cluster: one client (standalone, Sentinel or Cluster), one command connection shared by
 * every component (Lettuce pipelines concurrent commands on it), and one pub/sub connection for the events
 * channel.
 *
 * <p>Lettuce's own automatic reconnection is off (except under Redis Cluster, whose node connections Lettuce
 * manages): the node owns recovery. While connected, every command times out
 * after {@link ClusterConfig#commandTimeout()}, so a Redis outage shows up as fast failures, never as a pile of
 * waiting commands; the node then goes alone and calls {@link #open} again (with backoff) until it succeeds, which
 * replaces both connections and re-subscribes. That keeps one log line per outage instead of one per attempt, and
 * a Sentinel or Cluster deployment is asked afresh where its master or slots are. Nothing here blocks; results
 * complete on Lettuce's I/O threads, and callers hop to their own executor.
 *
 * <p>Netty resources: unless given {@link ClientResources} (for example built over the balancer's own event loops
 * with {@code DefaultClientResources.builder().eventLoopGroupProvider(…)}), the link creates its own small set — two
 * I/O threads and one computation thread — and shuts them down on {@link #close()}.
 */
final class RedisLink implements AutoCloseable {
    /** Error replies that mean this Redis cannot serve the cluster now (see {@link #isLinkFailure}). */
    private static final java.util.List<String> UNSERVICEABLE = java.util.List.of("OOM", "READONLY", "MISCONF",
            "LOADING", "MASTERDOWN", "CLUSTERDOWN", "NOAUTH", "WRONGPASS", "NOPERM", "BUSY", "NOREPLICAS");


    private final ClusterConfig config;
    private final ClientResources resources;
    private final boolean ownResources;
    private final RedisClient standalone;
    private final RedisClusterClient cluster;
    private final RedisURI uri;
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile StatefulConnection<String, String> commandConnection;
    private volatile StatefulRedisPubSubConnection<String, String> pubSub;
    private volatile CompletableFuture<Void> opening = CompletableFuture.completedFuture(null);
    private volatile boolean closed;

    RedisLink(ClusterConfig config, ClientResources shared) {
        this.config = config;
        this.ownResources = shared == null;
        this.resources = shared != null ? shared : DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(1)
                .build();
        Duration connectTimeout = max(Duration.ofSeconds(1), config.commandTimeout().multipliedBy(4));
        ClientOptions.Builder opts = config.target().mode() == RedisTarget.Mode.CLUSTER
                ? ClusterClientOptions.builder() : ClientOptions.builder();
        // A cluster connection opens its node connections lazily and must keep them up itself; elsewhere the
        // node owns reconnection.
        boolean clusterMode = config.target().mode() == RedisTarget.Mode.CLUSTER;
        opts.autoReconnect(clusterMode)
                .disconnectedBehavior(clusterMode ? ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS
                        : ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.commandTimeout()))
                .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout).keepAlive(true).build());
        // The URI's timeout bounds the connection handshake (Lettuce's default is a minute).
        List<RedisURI> uris = new ArrayList<>();
        for (RedisURI u : config.target().uris()) {
            RedisURI copy = RedisURI.builder(u).build();
            copy.setTimeout(connectTimeout);
            uris.add(copy);
        }
        this.uri = uris.get(0);
        if (config.target().mode() == RedisTarget.Mode.CLUSTER) {
            cluster = RedisClusterClient.create(resources, uris);
            cluster.setOptions((ClusterClientOptions) opts.build());
            standalone = null;
        } else {
            standalone = RedisClient.create(resources, uri);
            standalone.setOptions(opts.build());
            cluster = null;
        }
    }

    /**
     * Replaces both connections with new ones and subscribes to {@code channel}. Completes when both are up;
     * fails when Redis cannot be reached (then call it again later).
     */
    CompletionStage<Void> open(String channel, Consumer<String> onMessage) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("Redis link closed"));
        }
        closeConnections();
        CompletableFuture<Void> cmd;
        if (cluster != null) {
            // The cluster client connects asynchronously only once it knows the topology: (re)load it first.
            cmd = cluster.refreshPartitionsAsync().toCompletableFuture()
                    .thenCompose(v -> cluster.connectAsync(StringCodec.UTF8)).thenAccept(c -> {
                        commandConnection = c;
                        commands = c.async();
                    });
        } else {
            cmd = standalone.connectAsync(StringCodec.UTF8, uri).toCompletableFuture()
                    .thenAccept(c -> {
                        commandConnection = c;
                        commands = c.async();
                    });
        }
        CompletableFuture<Void> done = cmd.thenCompose(v -> {
            CompletableFuture<? extends StatefulRedisPubSubConnection<String, String>> f = cluster != null
                    ? cluster.connectPubSubAsync(StringCodec.UTF8)
                    : standalone.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture();
            return f;
        }).thenCompose(c -> {
            c.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String ch, String message) {
                    onMessage.accept(message);
                }
            });
            pubSub = c;
            return c.async().subscribe(channel).toCompletableFuture();
        });
        opening = done;
        return done;
    }

    /** Whether both connections are open (a dropped one is only replaced by {@link #open}). */
    boolean isOpen() {
        StatefulConnection<String, String> c = commandConnection;
        StatefulRedisPubSubConnection<String, String> p = pubSub;
        return c != null && c.isOpen() && p != null && p.isOpen();
    }

    /** The command interface, or {@code null} before the first connection succeeded. */
    RedisClusterAsyncCommands<String, String> commands() {
        return commands;
    }

    String describe() {
        return config.target().display();
    }

    /**
     * Whether a failure means Redis is unreachable or too slow (timeout, refused, disconnected) rather than that it
     * answered with an error (a script bug, a wrong type): only the former puts the replica on its own.
     */
    static boolean isLinkFailure(Throwable e) {
        Throwable t = LuaScript.unwrap(e);
        if (!(t instanceof RedisCommandExecutionException)) {
            return true;
        }
        // Redis answered, but in a state where it cannot serve the cluster: out of memory, a read-only replica
        // after a fail-over, still loading, a lost master, a rejected password, a script that will not end.
        // Staying "joined" would leave every grant frozen while requests wait for slots it can never give.
        String m = t.getMessage() == null ? "" : t.getMessage();
        for (String prefix : UNSERVICEABLE) {
            if (m.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private void closeConnections() {
        StatefulConnection<String, String> c = commandConnection;
        StatefulRedisPubSubConnection<String, String> p = pubSub;
        commandConnection = null;
        pubSub = null;
        if (c != null) {
            c.closeAsync();
        }
        if (p != null) {
            p.closeAsync();
        }
    }

    /**
     * Closes the connections and shuts the client down, asynchronously. A connection attempt in progress is let
     * finish first (its connection is then closed too): a channel that registers after the client and its event
     * loops are gone would never be unregistered, and Lettuce frees its read buffer only then.
     */
    @Override
    public void close() {
        closed = true;
        CompletableFuture<Void> down = opening.handle((v, e) -> null).thenCompose(x -> cluster != null
                ? cluster.shutdownAsync(0, 2, TimeUnit.SECONDS) : standalone.shutdownAsync(0, 2, TimeUnit.SECONDS));
        if (ownResources) {
            // Only after the client is down, or its last callbacks find the event loops gone.
            down.whenComplete((v, e) -> resources.shutdown(0, 2, TimeUnit.SECONDS));
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
