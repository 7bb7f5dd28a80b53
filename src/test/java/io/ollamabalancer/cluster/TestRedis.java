package io.ollamabalancer.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.ollamabalancer.testing.RedisServerProcess;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Plain Lettuce connections to a test's {@link RedisServerProcess}, one per simulated replica, for tests that drive
 * the cluster's scripts directly. Test threads only (they block on replies).
 */
final class TestRedis implements AutoCloseable {
    private final ClientResources resources = DefaultClientResources.builder().ioThreadPoolSize(2)
            .computationThreadPoolSize(1).build();
    private final RedisClient client;
    private RedisServerProcess owned;

    /** A private redis-server (skipping the test when none is installed) that {@link #close()} stops. */
    static TestRedis startOrSkip() throws Exception {
        RedisServerProcess redis = RedisServerProcess.startOrSkip();
        TestRedis t = new TestRedis(redis);
        t.owned = redis;
        return t;
    }

    /** The server, when this started it. */
    RedisServerProcess server() {
        return owned;
    }

    TestRedis(RedisServerProcess redis) {
        client = RedisClient.create(resources, RedisURI.create("127.0.0.1", redis.port()));
        client.setOptions(ClientOptions.builder().timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(5)))
                .build());
    }

    /** A new connection: each simulated replica gets its own, as separate processes would. */
    RedisAsyncCommands<String, String> connect() {
        StatefulRedisConnection<String, String> c = client.connect(StringCodec.UTF8);
        return c.async();
    }

    static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        // Shutting the client down closes its connections.
        client.shutdown(0, 1, TimeUnit.SECONDS);
        resources.shutdown(0, 1, TimeUnit.SECONDS);
        if (owned != null) {
            try {
                owned.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
