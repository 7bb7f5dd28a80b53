package io.ollamabalancer.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A logback appender that never makes the logging thread wait: it puts the event in a bounded queue and returns; a
 * writer thread of its own hands the queued events to the attached appenders (the console). When the queue is full
 * the event is dropped and counted in {@link DroppedLines} instead of blocking, so an event loop keeps serving when
 * stdout is slow or is a pipe nobody reads; the writer thread then says how many lines were lost, at most once a
 * minute, as a WARN of this class's logger. Events at INFO and below are also dropped while fewer than
 * {@code discardingThreshold} places are left (default: a fifth of the queue), which keeps room for WARN and ERROR;
 * {@code 0} drops only when the queue is full.
 *
 * <p>Unlike logback's {@code AsyncAppender} with {@code neverBlock}, which drops silently, it counts what it drops.
 * It never asks for caller data (no stack walk per event): the patterns must not use {@code %class}, {@code %line}
 * and the like.
 *
 * <p>Threading: {@link #append} runs on any thread and only offers to the queue; the attached appenders run on the
 * writer thread only, which takes what is queued in batches (flushing, after each, the attached output appenders
 * that do not flush per line, such as {@link BatchedConsoleAppender}: one write per batch) and, when it finds
 * nothing, looks again 10 ms later instead of waiting to be signalled: a signal per event would make every logging thread wake the writer (a
 * system call, then a thread switch on a busy machine) for each line. {@link #stop()} writes out what is queued, waiting at most {@code maxFlushTime} ms. Events are
 * owned by the queue until the writer has handed them on; {@link ILoggingEvent#prepareForDeferredProcessing()} is
 * called before queuing so that the message and thread name are fixed on the caller's thread (with
 * {@link #setDeferredFormatting deferred formatting}, only the thread name and the MDC).
 */
public final class NonBlockingAppender extends UnsynchronizedAppenderBase<ILoggingEvent>
        implements AppenderAttachable<ILoggingEvent> {
    private static final int BATCH = 256;
    /** How long the writer waits before looking again when the queue was empty: a line appears at most this late. */
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final AppenderAttachableImpl<ILoggingEvent> appenders = new AppenderAttachableImpl<>();
    private DroppedLines drops = DroppedLines.PROCESS;
    private int queueSize = 8192;
    private int discardingThreshold = -1;
    private int maxFlushTime = 2_000;
    private boolean deferredFormatting;
    private BlockingQueue<ILoggingEvent> queue;
    private int reserve;
    private Thread writer;
    private volatile boolean running;

    /** Room for this many events; set before start. Default 8192. */
    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    public int getQueueSize() {
        return queueSize;
    }

    /** INFO and below are dropped while fewer places than this are left; -1 (default) means a fifth of the queue. */
    public void setDiscardingThreshold(int discardingThreshold) {
        this.discardingThreshold = discardingThreshold;
    }

    /**
     * Leaves the message to be formatted on the writer thread (default false: on the logging thread). Only for a
     * logger whose arguments never change after the call (the access log's line is an immutable record formatted
     * by its {@code toString()}): the event keeps references to them until it is written. The thread name and the
     * MDC are still fixed on the logging thread.
     */
    public void setDeferredFormatting(boolean deferredFormatting) {
        this.deferredFormatting = deferredFormatting;
    }

    /** How long {@link #stop()} waits for the queued events to be written, in milliseconds. Default 2000. */
    public void setMaxFlushTime(int maxFlushTime) {
        this.maxFlushTime = maxFlushTime;
    }

    /** Where drops are counted; the process-wide count unless a test gives its own. */
    void setDrops(DroppedLines drops) {
        this.drops = drops;
    }

    @Override
    public void start() {
        if (isStarted()) {
            return;
        }
        if (queueSize < 1) {
            addError("queueSize must be at least 1, found " + queueSize + " (appender " + name + ")");
            return;
        }
        if (!appenders.iteratorForAppenders().hasNext()) {
            addError("no appender attached to " + name + ": nothing to write to");
            return;
        }
        queue = new ArrayBlockingQueue<>(queueSize);
        reserve = discardingThreshold < 0 ? queueSize / 5 : Math.min(discardingThreshold, queueSize);
        running = true;
        writer = new Thread(this::drain, "log-writer-" + name);
        writer.setDaemon(true);
        writer.start();
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        // remainingCapacity() takes the queue's lock: asked only for a line that the reserve may turn away
        if (reserve > 0 && event.getLevel().toInt() <= Level.INFO_INT && queue.remainingCapacity() < reserve) {
            drops.dropped();
            return;
        }
        if (deferredFormatting) {
            event.getThreadName();
            event.getMDCPropertyMap();
        } else {
            event.prepareForDeferredProcessing();
        }
        if (!queue.offer(event)) {
            drops.dropped();
        }
    }

    private void drain() {
        Logger log = LoggerFactory.getLogger(NonBlockingAppender.class);
        List<ILoggingEvent> batch = new ArrayList<>(BATCH);
        while (running || !queue.isEmpty()) {
            if (queue.drainTo(batch, BATCH) == 0) {
                // Nothing queued: look again a moment later. The writer is never woken per event, so a logging
                // thread (an event loop writing the access line) never pays for a wake-up; stop() unparks it.
                LockSupport.parkNanos(IDLE_PARK_NANOS);
                Thread.interrupted(); // a stop() while parked: the loop condition decides whether to go on
                continue;
            }
            for (ILoggingEvent e : batch) {
                appenders.appendLoopOnAppenders(e);
            }
            batch.clear();
            flushAppenders();
            long lost = drops.takeReport();
            if (lost > 0) {
                log.warn("{} log lines dropped since the last report because the log output is slower than the "
                        + "balancer (stdout stalled or slow); {} in all (ollama_balancer_log_lines_dropped_total)",
                        lost, drops.total());
            }
        }
    }

    /**
     * Flushes the attached output appenders that do not flush per line ({@code immediateFlush} false, e.g.
     * {@link BatchedConsoleAppender}): a drained batch goes out in one write.
     */
    private void flushAppenders() {
        for (Iterator<Appender<ILoggingEvent>> it = appenders.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof OutputStreamAppender<?> out && !out.isImmediateFlush() && out.isStarted()) {
                try {
                    out.getOutputStream().flush();
                } catch (IOException e) {
                    addError("flushing " + out.getName() + " failed", e);
                }
            }
        }
    }

    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        running = false;
        writer.interrupt();
        try {
            writer.join(maxFlushTime);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            addWarn(queue.size() + " events still queued in " + name + " after " + maxFlushTime + " ms; not written");
        }
        appenders.detachAndStopAllAppenders();
    }

    @Override
    public void addAppender(Appender<ILoggingEvent> appender) {
        appenders.addAppender(appender);
    }

    @Override
    public Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
        return appenders.iteratorForAppenders();
    }

    @Override
    public Appender<ILoggingEvent> getAppender(String name) {
        return appenders.getAppender(name);
    }

    @Override
    public boolean isAttached(Appender<ILoggingEvent> appender) {
        return appenders.isAttached(appender);
    }

    @Override
    public void detachAndStopAllAppenders() {
        appenders.detachAndStopAllAppenders();
    }

    @Override
    public boolean detachAppender(Appender<ILoggingEvent> appender) {
        return appenders.detachAppender(appender);
    }

    @Override
    public boolean detachAppender(String name) {
        return appenders.detachAppender(name);
    }
}
