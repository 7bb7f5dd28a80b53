package io.ollamabalancer.cluster;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one thread on which all of the cluster's decisions run: grant bookkeeping, mirror flushes, renewals, and the
 * continuations of every Redis reply (which arrive on Lettuce's I/O threads and hop here). Confining the state to
 * one thread keeps it free of locks; nothing on it blocks, so a slow Redis delays nothing but cluster bookkeeping.
 * It is a plain daemon thread, not an event loop of the server.
 */
final class ClusterThread implements Executor, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterThread.class);

    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread thread;

    ClusterThread(String name) {
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @Override
    public void execute(Runnable task) {
        try {
            executor.execute(guard(task));
        } catch (RejectedExecutionException e) {
            LOG.debug("cluster thread closed; task dropped");
        }
    }

    ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return executor.schedule(guard(task), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    ScheduledFuture<?> every(Runnable task, long periodNanos) {
        try {
            return executor.scheduleWithFixedDelay(guard(task), periodNanos, periodNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    boolean inThread() {
        return Thread.currentThread() == thread;
    }

    private static Runnable guard(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                // A bug in one task must not kill the thread every later decision runs on.
                LOG.error("cluster task failed", e);
            }
        };
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
