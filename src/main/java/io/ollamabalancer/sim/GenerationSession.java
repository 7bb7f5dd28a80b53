package io.ollamabalancer.sim;

import io.netty.util.concurrent.ScheduledFuture;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * One generation from admission to its final chunk: takes a {@link ModelLease}, waits out the warm-up and prefill,
 * then emits one chunk per token, paced in real time by event-loop timers. Pacing keeps an absolute due time per
 * token, so late timer wake-ups catch up instead of drifting; it pauses while the channel is unwritable (a slow
 * client) and resumes from "now". Stops at once and frees the slot when the client leaves. Confined to the event
 * loop; never blocks it.
 */
final class GenerationSession implements SimExchange.Active {
    static final String MODEL_ERROR = "an error was encountered while running the model: unexpected EOF";

    private enum State { ADMITTING, PREFILLING, DECODING, PAUSED, STALLED, DONE }

    private final SimExchange x;
    private final SimContext sim;
    private final GenerationRequest req;
    private final GenerationFormat format;
    private final OutputPlan plan;
    private final ModelLease lease;
    private final StreamWriter out;
    private final StringBuilder text;
    private final long startedAt;
    private State state = State.ADMITTING;
    private ScheduledFuture<?> timer;
    private long loadNanos;
    private long prefillStartAt;
    private long promptEvalNanos;
    private long decodeStartAt;
    private long lastTokenAt;
    private long nextDue;
    private int emitted;
    private int[] evalIds = new int[16];

    GenerationSession(SimExchange x, GenerationRequest req, ModelRuntime model, GenerationFormat format) {
        this.x = x;
        this.sim = x.sim();
        this.req = req;
        this.format = format;
        SimulatorConfig cfg = sim.config();
        this.plan = new OutputPlan(cfg.seed(), req.bodyHash(), cfg.meanOutputTokens(), cfg.maxOutputTokens(),
                req.numPredict(), cfg.jitter());
        this.lease = new ModelLease(sim, model, this::modelReady);
        this.out = req.stream() ? x.stream(format.streamContentType()) : null;
        this.text = req.stream() ? null : new StringBuilder();
        this.startedAt = sim.nanoTime();
    }

    void start() {
        x.active(this);
        if (!lease.start()) {
            state = State.DONE;
            format.replyError(x, 503, SimRouter.BUSY);
        }
    }

    private void modelReady(long measuredLoadNanos) {
        long warm = plan.warmLoadNanos();
        loadNanos = measuredLoadNanos + warm;
        state = State.PREFILLING;
        prefillStartAt = sim.nanoTime() + warm;
        double rate = sim.config().prefillTokensPerSecond() * sim.faults().speedFactor();
        long prefill = (long) (req.promptTokens() * 1e9 / rate);
        timer = sim.loop().schedule(this::prefilled, warm + prefill, TimeUnit.NANOSECONDS);
    }

    private void prefilled() {
        timer = null;
        long now = sim.nanoTime();
        promptEvalNanos = Math.max(0, now - prefillStartAt);
        decodeStartAt = now;
        lastTokenAt = now;
        state = State.DECODING;
        nextDue = now + nextInterval();
        pump();
    }

    /** Emits every token that is due, then sleeps until the next one. */
    private void pump() {
        timer = null;
        long now = sim.nanoTime();
        while (state == State.DECODING && emitted < plan.tokens() && nextDue <= now) {
            if (out != null && !out.writable()) {
                state = State.PAUSED;
                sim.counters().onWritePause();
                return;
            }
            emitToken(now);
            if (state != State.DECODING) {
                return;
            }
            nextDue += nextInterval();
        }
        if (state != State.DECODING) {
            return;
        }
        if (emitted >= plan.tokens()) {
            finish();
            return;
        }
        timer = sim.loop().schedule(this::pump, nextDue - now, TimeUnit.NANOSECONDS);
    }

    private void emitToken(long now) {
        int id = plan.nextTokenId();
        String piece = plan.piece(id, emitted == 0);
        if (emitted == evalIds.length) {
            evalIds = Arrays.copyOf(evalIds, emitted * 2);
        }
        evalIds[emitted++] = OutputPlan.contextId(id);
        lastTokenAt = now;
        sim.counters().onToken();
        if (out != null) {
            out.chunk(format.token(x.alloc(), piece, sim.now()));
        } else {
            text.append(piece);
        }
        SimFaults faults = sim.faults();
        int crashAt = faults.crashAfterTokens();
        int errorAt = faults.errorAfterTokens();
        int stallAt = faults.stallAfterTokens();
        if (stallAt > 0 && emitted >= stallAt) {
            // Hung: nothing more is sent and the slot stays taken until the client leaves (cancel()).
            state = State.STALLED;
        } else if (crashAt > 0 && emitted >= crashAt) {
            end(null);
            x.crash();
        } else if (errorAt > 0 && emitted >= errorAt) {
            end(null);
            if (out != null) {
                x.failStream(out, format.midStreamError(x.alloc(), MODEL_ERROR));
            } else {
                format.replyError(x, 500, MODEL_ERROR);
            }
        }
    }

    /** Interval to the next token: 1/rate, slowed by concurrent decoding, jittered, scaled by the speed fault. */
    private long nextInterval() {
        SimulatorConfig cfg = sim.config();
        int k = Math.max(1, sim.slots().active());
        double share = 1 + cfg.decodeSlowdown() * (k - 1);
        double seconds = share * plan.jitterFactor() / (cfg.decodeTokensPerSecond() * sim.faults().speedFactor());
        return Math.max(1, (long) (seconds * 1e9));
    }

    private void finish() {
        end(req.keepAlive());
        long now = sim.nanoTime();
        GenerationOutcome o = new GenerationOutcome(sim.now(), text == null ? "" : text.toString(),
                plan.doneReason(), req.promptTokens(), now - startedAt, loadNanos, promptEvalNanos, emitted,
                lastTokenAt - decodeStartAt, req.raw() || req.route() != Route.GENERATE ? null : context());
        if (out != null) {
            x.endStream(out, format.last(x.alloc(), o));
        } else {
            format.replyWhole(x, o);
        }
    }

    private int[] context() {
        int[] prompt = plan.promptIds(req.promptTokens());
        int[] all = Arrays.copyOf(prompt, prompt.length + emitted);
        System.arraycopy(evalIds, 0, all, prompt.length, emitted);
        return all;
    }

    /** Stops pacing and frees slot and model; only a completed request passes its keep_alive on. */
    private void end(Long keepAlive) {
        state = State.DONE;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        lease.release(keepAlive);
    }

    @Override
    public void cancel() {
        if (state == State.DONE) {
            return;
        }
        end(null);
        x.cancelled();
    }

    @Override
    public void writabilityChanged() {
        if (state == State.PAUSED && out.writable()) {
            state = State.DECODING;
            nextDue = Math.max(nextDue, sim.nanoTime());
            pump();
        }
    }

    @Override
    public String toString() {
        return "GenerationSession[" + req.route() + " " + req.model() + " " + state + " " + emitted + "/"
                + plan.tokens() + "]";
    }
}
