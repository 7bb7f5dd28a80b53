package io.ollamabalancer.backend;

import java.util.function.LongSupplier;

/**
 * The circuit breaker of one backend: turns probe and request outcomes into ejections with exponential backoff,
 * a single half-open trial, and a slow-start ramp after recovery (numbers in {@link HealthPolicy}).
 *
 * <p>Time comes only from the injected {@code nanoTime}, so tests drive it with a fake clock; nothing here sleeps
 * or schedules. Time-driven changes happen lazily: an {@code EJECTED} backend whose time is over is seen as
 * {@code HALF_OPEN} by the next reader.
 *
 * <p>Thread-safety: every input and every state change runs in a short {@code synchronized} section on this
 * tracker (a handful of field writes, no I/O, no callbacks). The hot reads — {@link #state()},
 * {@link #mayTakeRequest()}, {@link #effectiveConcurrency(int)}, {@link #weight()} and the common case of
 * {@link #onRequestSuccess()} on a healthy backend — read volatile fields without locking. Transitions are handed
 * to the {@link Sink} after the lock is released, exactly once each, on the thread that made them.
 */
public final class HealthTracker {

    /** What an input changed, as far as anyone outside needs to know. */
    public enum Transition {
        NONE,
        /** Now ejected (from UNKNOWN, UP or HALF_OPEN). */
        EJECTED,
        /** A half-open trial succeeded: UP again, ramping. */
        RECOVERED
    }

    /** Receives transitions; must not throw and must not block. */
    @FunctionalInterface
    public interface Sink {
        Sink NONE = (t, why) -> { };

        void onTransition(Transition transition, String why);
    }

    private static final double MIN_WEIGHT = 0.05;

    private final HealthPolicy policy;
    private final LongSupplier nanoTime;
    private final Sink sink;
    private final long rampNanos;

    // Written only under the lock; volatile so the hot path may read them without it.
    private volatile HealthState state = HealthState.UNKNOWN;
    private volatile long ejectedUntilNanos;
    private volatile boolean ramping;
    private volatile long rampStartNanos;
    private volatile boolean trialInFlight;
    private volatile long trialStartedNanos;
    private volatile long nextProbeAtNanos;
    private volatile int passiveFailures;
    private volatile long ejections;
    private volatile long ejectionNanos;
    private volatile String lastError;
    /**
     * Whether response bytes came from the backend since the last probe started ({@link #heard}, {@link #probing}):
     * set by any event loop, cleared by the prober. Read on every part, written once per probe interval at most.
     */
    private volatile boolean heard;

    // Only under the lock.
    private int activeFailures;
    private int backoffLevel;
    private long healthySinceNanos;

    public HealthTracker(HealthPolicy policy, LongSupplier nanoTime, Sink sink) {
        this.policy = policy;
        this.nanoTime = nanoTime;
        this.sink = sink == null ? Sink.NONE : sink;
        this.rampNanos = policy.slowStart().toNanos();
        this.nextProbeAtNanos = nanoTime.getAsLong();
    }

    public HealthPolicy policy() {
        return policy;
    }

    // ---- reads ----

    public HealthState state() {
        HealthState s = state;
        if (s == HealthState.EJECTED && nanoTime.getAsLong() - ejectedUntilNanos >= 0) {
            synchronized (this) {
                promote(nanoTime.getAsLong());
                return state;
            }
        }
        return s;
    }

    /** The coarse view for older callers: {@code EJECTED} and {@code HALF_OPEN} are {@link Health#DOWN}. */
    public Health health() {
        return state().toHealth();
    }

    /**
     * Whether new work may be routed here: always when UNKNOWN or UP, never when EJECTED, and when HALF_OPEN only
     * while no trial is in flight. Takes nothing; {@link #tryAdmit()} claims the trial.
     */
    public boolean mayTakeRequest() {
        return switch (state()) {
            case UNKNOWN, UP -> true;
            case EJECTED -> false;
            case HALF_OPEN -> !trialBusy(nanoTime.getAsLong());
        };
    }

    /**
     * The concurrency limit to enforce now: {@code max} normally; during slow start it grows linearly from 1 at the
     * recovery to {@code max} at the end of the ramp; 1 while half-open (the trial); 0 while ejected.
     */
    public int effectiveConcurrency(int max) {
        return switch (state()) {
            case EJECTED -> 0;
            case HALF_OPEN -> Math.min(1, max);
            case UNKNOWN, UP -> {
                long elapsed = rampElapsed();
                if (elapsed < 0 || max <= 1) {
                    yield max;
                }
                yield (int) Math.min(max, 1 + (max - 1) * elapsed / rampNanos);
            }
        };
    }

    /**
     * A routing weight in (0, 1]: 1 when fully healthy, the fraction of the slow-start ramp done while ramping (at
     * least {@value #MIN_WEIGHT}), and {@value #MIN_WEIGHT} while ejected or half-open.
     */
    public double weight() {
        HealthState s = state();
        if (s == HealthState.EJECTED || s == HealthState.HALF_OPEN) {
            return MIN_WEIGHT;
        }
        long elapsed = rampElapsed();
        if (elapsed < 0) {
            return 1.0;
        }
        return Math.max(MIN_WEIGHT, (double) elapsed / rampNanos);
    }

    /** The last failure that counted against this backend, or {@code null}. */
    public String lastError() {
        return lastError;
    }

    /** How many times it was ejected (a failed half-open trial counts again). */
    public long ejections() {
        return ejections;
    }

    /** How long the latest ejection lasts (or lasted); 0 before the first. */
    public long ejectionNanos() {
        return ejectionNanos;
    }

    /** Consecutive passive failures counted so far (reset by a successful request). */
    public int passiveFailures() {
        return passiveFailures;
    }

    /**
     * When the next probe is due: the next interval while healthy, the end of the ejection while ejected, now while
     * half-open with no trial in flight, the trial's expiry while one is.
     */
    public long nextProbeAtNanos() {
        long now = nanoTime.getAsLong();
        return switch (state()) {
            case UNKNOWN, UP -> nextProbeAtNanos;
            case EJECTED -> ejectedUntilNanos;
            case HALF_OPEN -> trialBusy(now) ? trialStartedNanos + policy.trialTimeout().toNanos() : now;
        };
    }

    // ---- admission ----

    /**
     * Claims a probe if one is due now: for a healthy backend when its interval has passed (the next one is then
     * scheduled), for a half-open one when its trial is free (the probe becomes the trial). Never while ejected.
     */
    public synchronized boolean allowProbe() {
        long now = nanoTime.getAsLong();
        promote(now);
        return switch (state) {
            case UNKNOWN, UP -> {
                if (now - nextProbeAtNanos < 0) {
                    yield false;
                }
                nextProbeAtNanos = now + policy.probeInterval().toNanos();
                yield true;
            }
            case EJECTED -> false;
            case HALF_OPEN -> claimTrial(now);
        };
    }

    /**
     * Lets one request in: true when healthy; when half-open, claims the single trial (the request's outcome then
     * decides); false when ejected or the trial is taken. Undo with {@link #cancelAdmit()} if the request then does
     * not go out after all.
     */
    public boolean tryAdmit() {
        HealthState s = state();
        if (s == HealthState.UP || s == HealthState.UNKNOWN) {
            return true;
        }
        if (s == HealthState.EJECTED) {
            return false;
        }
        synchronized (this) {
            long now = nanoTime.getAsLong();
            promote(now);
            return switch (state) {
                case UNKNOWN, UP -> true;
                case EJECTED -> false;
                case HALF_OPEN -> claimTrial(now);
            };
        }
    }

    /**
     * Gives back a trial claimed by {@link #tryAdmit()} whose request did not go out. A no-op when healthy. (If the
     * trial had meanwhile expired and another was claimed, this frees that one early: harmless, it only allows one
     * more trial.)
     */
    public synchronized void cancelAdmit() {
        if (state == HealthState.HALF_OPEN) {
            trialInFlight = false;
        }
    }

    // ---- inputs ----

    /** An active probe answered 200. */
    public Transition onProbeSuccess() {
        Transition t;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            promote(now);
            activeFailures = 0;
            t = succeed(now);
        }
        return fire(t, null);
    }

    /** An active probe failed (refused, timed out, non-200). */
    public Transition onProbeFailure(String why) {
        return fail(why, true);
    }

    /**
     * An active probe was not answered in time. It counts as {@link #onProbeFailure} unless the backend's responses
     * kept coming since the probe started ({@link #heard}): then it is busy, or the path to it is slow, not down.
     * Under load (5,000 streams on two cores shared with the backends) the probe's answer waited behind the streams,
     * two timeouts ejected backends that were streaming to 1,250 clients, and their slow start then held a queue of
     * thousands back while their slots were free. A backend that stops answering stops its streams too: their stall
     * timer and the next probe catch it.
     */
    public Transition onProbeTimeout(String why) {
        if (heard) {
            lastError = why + " (ignored: its responses kept coming)";
            return Transition.NONE;
        }
        return fail(why, true);
    }

    /** A probe starts now: from here on, {@link #heard} counts toward it. */
    public void probing() {
        heard = false;
    }

    /**
     * Response bytes came from the backend (a part of any response). Lock-free; it writes only the first time after a
     * probe started, so the per-chunk path costs one read of a field that stays in every core's cache.
     */
    public void heard() {
        if (!heard) {
            heard = true;
        }
    }

    /**
     * A request was answered (response head with a status below 500, or a stream that ended normally). Resets the
     * passive failure count; a half-open backend recovers. Lock-free when the backend is healthy and nothing failed.
     */
    public Transition onRequestSuccess() {
        if (state == HealthState.UP && passiveFailures == 0) {
            return Transition.NONE;
        }
        Transition t;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            promote(now);
            passiveFailures = 0;
            t = succeed(now);
        }
        return fire(t, null);
    }

    /**
     * A request failed in a way that counts (a {@link FailureKind} whose rule is {@code COUNT}: a failed connect or
     * reset, a stream that died or stalled, a response that never came). Callers with a kind use {@link #onFailure}.
     */
    public Transition onRequestFailure(String why) {
        return fail(why, false);
    }

    /**
     * One failure of a probe ({@code active}) or of a request: counted against its own threshold while healthy,
     * fatal to a half-open trial, and ignored while ejected (streams started before the ejection may still fail:
     * they say nothing new).
     */
    private Transition fail(String why, boolean active) {
        Transition t = Transition.NONE;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            promote(now);
            lastError = why;
            switch (state) {
                case UNKNOWN, UP -> {
                    int failures = active ? ++activeFailures : ++passiveFailures;
                    int threshold = active ? policy.activeFailureThreshold() : policy.passiveFailureThreshold();
                    if (failures >= threshold) {
                        t = eject(now, why);
                    }
                }
                case HALF_OPEN -> t = eject(now, why);
                case EJECTED -> { }
            }
        }
        return fire(t, why);
    }

    /** Nothing listens on the backend's port (or its host is gone): eject at once, whatever the counts. */
    public Transition onConnectionRefused(String why) {
        Transition t = Transition.NONE;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            promote(now);
            lastError = why;
            if (state != HealthState.EJECTED) {
                t = eject(now, why);
            }
        }
        return fire(t, why);
    }

    /**
     * Applies {@code kind}'s health rule ({@link FailureKind#health()}): eject at once, count one passive failure, or
     * nothing (a half-open trial the request held is given back, so the next request can be the trial).
     */
    public Transition onFailure(FailureKind kind, String why) {
        return switch (kind.health()) {
            case EJECT -> onConnectionRefused(why);
            case COUNT -> onRequestFailure(why);
            case NONE -> {
                cancelAdmit();
                yield Transition.NONE;
            }
        };
    }

    /**
     * A connection attempt failed: ejects at once when it was refused ({@link Failures#isConnectionRefused}),
     * else counts like any request failure.
     */
    public Transition onConnectFailure(Throwable cause) {
        String why = Failures.describe(cause);
        return Failures.isConnectionRefused(cause) ? onConnectionRefused(why) : onRequestFailure(why);
    }

    /** Forgets everything: back to UNKNOWN with no backoff history (an operator reset). */
    public synchronized void reset() {
        state = HealthState.UNKNOWN;
        ramping = false;
        trialInFlight = false;
        passiveFailures = 0;
        activeFailures = 0;
        backoffLevel = 0;
        nextProbeAtNanos = nanoTime.getAsLong();
    }

    // ---- under the lock ----

    private void promote(long now) {
        if (state == HealthState.EJECTED && now - ejectedUntilNanos >= 0) {
            state = HealthState.HALF_OPEN;
            trialInFlight = false;
        }
    }

    private boolean claimTrial(long now) {
        if (trialBusy(now)) {
            return false;
        }
        trialInFlight = true;
        trialStartedNanos = now;
        return true;
    }

    private Transition succeed(long now) {
        switch (state) {
            case UNKNOWN -> {
                state = HealthState.UP;
                healthySinceNanos = now;
                return Transition.NONE;
            }
            case HALF_OPEN -> {
                state = HealthState.UP;
                healthySinceNanos = now;
                rampStartNanos = now;
                ramping = rampNanos > 0;
                trialInFlight = false;
                passiveFailures = 0;
                activeFailures = 0;
                nextProbeAtNanos = now + policy.probeInterval().toNanos();
                return Transition.RECOVERED;
            }
            // EJECTED: the backoff holds; recovery goes through a half-open trial.
            default -> {
                return Transition.NONE;
            }
        }
    }

    // Callers hold this object's monitor; the fields are volatile only for the lock-free readers.
    @SuppressWarnings("NonAtomicVolatileUpdate")
    private Transition eject(long now, String why) {
        if (state == HealthState.UP && now - healthySinceNanos >= policy.backoffResetAfter().toNanos()) {
            backoffLevel = 0;
        }
        long base = policy.baseEjection().toNanos();
        long max = policy.maxEjection().toNanos();
        long duration = backoffLevel >= 62 || base > (max >> backoffLevel) ? max : Math.min(max, base << backoffLevel);
        if (duration < max) {
            backoffLevel++;
        }
        state = HealthState.EJECTED;
        ejectedUntilNanos = now + duration;
        ejectionNanos = duration;
        ejections = ejections + 1;
        ramping = false;
        trialInFlight = false;
        passiveFailures = 0;
        activeFailures = 0;
        lastError = why;
        return Transition.EJECTED;
    }

    // ---- lock-free helpers ----

    private boolean trialBusy(long now) {
        return trialInFlight && now - trialStartedNanos < policy.trialTimeout().toNanos();
    }

    /** Time since the ramp began, or -1 when not ramping (never started or over). */
    private long rampElapsed() {
        if (!ramping) {
            return -1;
        }
        long elapsed = nanoTime.getAsLong() - rampStartNanos;
        return elapsed >= rampNanos ? -1 : Math.max(0, elapsed);
    }

    private Transition fire(Transition t, String why) {
        if (t != Transition.NONE) {
            sink.onTransition(t, why);
        }
        return t;
    }

    @Override
    public String toString() {
        return "HealthTracker[" + state() + ", ejections=" + ejections + "]";
    }
}
