package io.ollamabalancer.cli;

import io.ollamabalancer.SuppressForbidden;
import io.ollamabalancer.logging.Logs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How a long-running command learns it must stop.
 * <ul>
 *   <li>{@link #onStopSignals}: SIGTERM ({@code docker stop}, Kubernetes) and SIGINT (Ctrl-C) start the command's
 *       graceful stop instead of the JVM's own exit, which would run the shutdown hooks at once and end with status
 *       143; the command then returns normally and the process exits 0. A second signal asks to hurry.</li>
 *   <li>{@link #register}: a JVM shutdown hook, for every other way the JVM is asked to stop (or when the signals
 *       cannot be caught, e.g. under {@code -Xrs}).</li>
 * </ul>
 * Both are taken back when the command ends on its own, so nothing stays registered in a test JVM. Thread-safe
 * through {@link Runtime} and {@link Signal}; the signal callbacks run on the JVM's signal thread and only start work.
 */
@SuppressForbidden // sun.misc.Signal: the JDK's only way to catch SIGTERM instead of exiting with status 143
final class ShutdownHooks {
    private static final Logger log = LoggerFactory.getLogger(ShutdownHooks.class);
    private static final List<String> STOP_SIGNALS = List.of("TERM", "INT");

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

    /**
     * Runs {@code stop} on the first SIGTERM or SIGINT and {@code hurry} on every later one, until the returned handle
     * is closed (which puts the previous handlers back). Signals that cannot be caught here are left to the JVM (and
     * so to the shutdown hook).
     */
    static AutoCloseable onStopSignals(Runnable stop, Runnable hurry) {
        AtomicBoolean first = new AtomicBoolean(true);
        SignalHandler handler = sig -> {
            if (first.getAndSet(false)) {
                log.info("SIG{} received: stopping gracefully (send it again to stop now)", sig.getName());
                stop.run();
            } else {
                hurry.run();
            }
        };
        List<Runnable> restore = new ArrayList<>();
        for (String name : STOP_SIGNALS) {
            try {
                Signal signal = new Signal(name);
                SignalHandler previous = Signal.handle(signal, handler);
                restore.add(() -> Signal.handle(signal, previous));
            } catch (IllegalArgumentException | UnsupportedOperationException unavailable) {
                log.debug("SIG{} cannot be caught here ({}); the shutdown hook stops the balancer", name,
                        unavailable.getMessage());
            }
        }
        return () -> restore.forEach(Runnable::run);
    }
}
