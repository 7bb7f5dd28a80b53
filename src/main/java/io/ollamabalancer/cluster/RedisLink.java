package io.ollamabalancer.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The Lettuce side of the cluster: one client (standalone, Sentinel or Cluster), one command connection shared by
 * every component (Lettuce pipelines concurrent commands on it), and one pub/sub connection for the events
 * channel.
 *
 * <p>Connections are made asynchronously; once made, Lettuce reconnects them by itself (exponential delay capped
 * at {@link ClusterConfig#reconnectBackoffMax()}) and re-subscribes. While disconnected, commands are
 * <em>rejected at once</em> rather than buffered, and every command times out after
 * {@link ClusterConfig#commandTimeout()}: a Redis outage shows up as fast failures, never as a pile of waiting
 * commands. Nothing here blocks; results complete on Lettuce's I/O threads, and callers hop to their own executor.
 *
 * <p>Netty resources: unless given {@link ClientResources} (for example built over the balancer's own event loops
 * with {@code DefaultClientResources.builder().eventLoopGroupProvider(…)}), the link creates its own small set — two
 * I/O threads and one computation thread — and shuts them down on {@link #close()}.
 */
final class RedisLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);

    private final ClusterConfig config;
    private final ClientResources resources;
    private final boolean ownResources;
    private final RedisClient standalone;
    private final RedisClusterClient cluster;
    private volatile RedisClusterAsyncCommands<String, String> commands;
    private volatile StatefulRedisPubSubConnection<String, String> pubSub;

    RedisLink(ClusterConfig config, ClientResources shared) {
        this.config = config;
        this.ownResources = shared == null;
        this.resources = shared != null ? shared : DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(1)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), config.reconnectBackoffMax(), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        Duration connectTimeout = max(Duration.ofSeconds(1), config.commandTimeout().multipliedBy(4));
        ClientOptions.Builder opts = config.target().mode() == RedisTarget.Mode.CLUSTER
                ? ClusterClientOptions.builder() : ClientOptions.builder();
        opts.autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.commandTimeout()))
                .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout).keepAlive(true).build());
        if (config.target().mode() == RedisTarget.Mode.CLUSTER) {
            cluster = RedisClusterClient.create(resources, config.target().uris());
            cluster.setOptions((ClusterClientOptions) opts.build());
            standalone = null;
        } else {
            standalone = RedisClient.create(resources, config.target().uris().get(0));
            standalone.setOptions(opts.build());
            cluster = null;
        }
    }

    /**
     * Opens the command and pub/sub connections (each only if not open yet). Completes when both are up; fails
     * when Redis cannot be reached, and may be called again.
     */
    CompletionStage<Void> connect(String channel, Consumer<String> onMessage) {
        CompletableFuture<Void> cmd = commands != null ? CompletableFuture.completedFuture(null) : connectCommands();
        return cmd.thenCompose(v -> pubSub != null ? CompletableFuture.<Void>completedFuture(null)
                : connectPubSub(channel, onMessage));
    }

    private CompletableFuture<Void> connectCommands() {
        if (cluster != null) {
            return cluster.connectAsync(StringCodec.UTF8).thenAccept(c -> {
                commands = c.async();
            });
        }
        return standalone.connectAsync(StringCodec.UTF8, config.target().uris().get(0)).toCompletableFuture()
                .thenAccept(c -> {
                        commands = c.async();
                });
    }

    private CompletableFuture<Void> connectPubSub(String channel, Consumer<String> onMessage) {
        CompletableFuture<? extends StatefulRedisPubSubConnection<String, String>> f = cluster != null
                ? cluster.connectPubSubAsync(StringCodec.UTF8)
                : standalone.connectPubSubAsync(StringCodec.UTF8, config.target().uris().get(0)).toCompletableFuture();
        return f.thenCompose(c -> {
            c.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String ch, String message) {
                    onMessage.accept(message);
                }
            });
            pubSub = c;
            return c.async().subscribe(channel).toCompletableFuture();
        });
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
        return !(LuaScript.unwrap(e) instanceof RedisCommandExecutionException);
    }

    @Override
    public void close() {
        // Shutting the client down closes its connections.
        try {
            if (cluster != null) {
                cluster.shutdownAsync(0, 2, TimeUnit.SECONDS);
            } else {
                standalone.shutdownAsync(0, 2, TimeUnit.SECONDS);
            }
            if (ownResources) {
                resources.shutdown(0, 2, TimeUnit.SECONDS);
            }
        } catch (RuntimeException e) {
            LOG.debug("closing the Redis client failed", e);
        }
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
