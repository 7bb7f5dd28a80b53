package io.ollamabalancer.cli;

import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.config.BalancerConfig;
import io.ollamabalancer.server.BalancerServer;

import java.util.List;

/**
 * Starts the balancer for {@code serve} and {@code demo}. The real one is {@link #SERVER}; tests pass their own to
 * see exactly what a command would have started, without opening a socket. Implementations are thread-safe.
 */
@FunctionalInterface
interface Launcher {

    /** A started balancer. */
    interface Running extends AutoCloseable {
        int port();

        void awaitClose() throws InterruptedException;

        /** Starts a graceful stop (SIGTERM's); {@link #awaitClose} returns when it ended. Stops at once by default. */
        default void shutdown() {
            close();
        }

        /** Cuts a graceful stop short (a second signal). */
        default void hurry() {
        }

        @Override
        void close();
    }

    Running start(BalancerConfig config, List<BackendConfig> backends) throws Exception;

    /** Starts a {@link BalancerServer}. */
    Launcher SERVER = (config, backends) -> {
        BalancerServer server = BalancerServer.start(config, backends);
        return new Running() {
            @Override
            public int port() {
                return server.port();
            }

            @Override
            public void awaitClose() throws InterruptedException {
                server.awaitClose();
            }

            @Override
            public void shutdown() {
                server.shutdown();
            }

            @Override
            public void hurry() {
                server.hurry();
            }

            @Override
            public void close() {
                server.close();
            }
        };
    };
}
