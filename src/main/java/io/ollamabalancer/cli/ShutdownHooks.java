package io.ollamabalancer.cli;

import io.ollamabalancer.logging.Logs;

/**
 * Closes what a long-running command started when the JVM is asked to stop (Ctrl-C, {@code docker stop}), and
 * takes the hook back when the command ends on its own, so nothing stays registered in a test JVM. Thread-safe
 * through {@link Runtime}.
 */
final class ShutdownHooks {
    private ShutdownHooks() {
    }

    static Thread register(String name, Runnable action) {
        Thread hook = new Thread(() -> {
            try {
                action.run();
            } finally {
                Logs.stop(); // the JVM halts when the hooks end: write out the queued log lines first
            }
        }, name);
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    static void unregister(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or has run: exactly what it is for
        }
    }
}
