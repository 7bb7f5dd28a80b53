package io.ollamabalancer.server;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;

import java.util.List;

/**
 * The running balancer: event loops, the listening socket, the fleet, the scheduler and the upstream pools.
 * Created by {@link #start}, stopped by {@link #close}. Thread-safe.
 */
public final class BalancerServer implements AutoCloseable {
    private final int port;

    private BalancerServer(int port) {
        this.port = port;
    }

    /**
     * Binds and starts serving; returns once the socket is bound.
     *
     * @param config   process settings ({@code port} 0 binds an ephemeral port)
     * @param backends the fleet, already validated
     */
    public static BalancerServer start(BalancerConfig config, List<BackendConfig> backends)
            throws InterruptedException {
        throw new UnsupportedOperationException("under construction");
    }

    /** The bound port (useful when started on port 0). */
    public int port() {
        return port;
    }

    /** Blocks until the server is closed. */
    public void awaitClose() throws InterruptedException {
    }

    @Override
    public void close() {
    }
}
