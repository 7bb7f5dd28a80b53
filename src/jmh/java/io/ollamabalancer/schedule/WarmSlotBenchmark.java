package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.request.InferenceRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler's own work for the common request of the proxy benchmark (issue #11): a warm backend with a free
 * slot, nothing waiting (or, with {@code waiting}, a full fleet with a queue). One operation is one request's whole
 * life in the scheduler: estimate, submit (queued, planned, dispatched at once), then the completion of the oldest of
 * {@code inFlight} running requests with its learning. The fleet is the proxy benchmark's by default
 * ({@code backends} backend(s) with 512 slots, one model); the streams benchmark's is
 * {@code -p backends=4 -p slots=250 -p inFlight=999}. Runs on the benchmark thread, as it would on an event loop.
 *
 * <p>Not thread-safe: one benchmark thread per state (JMH's {@link Scope#Thread}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class WarmSlotBenchmark {
    @Param({"1"})
    public int backends;
    @Param({"64"})
    public int inFlight;
    /** Requests waiting behind the {@code inFlight} running ones: each completion then dispatches one of them. */
    @Param({"0"})
    public int waiting;
    /** Slots per backend: with {@code inFlight} close to all of them, every decision weighs backends that are full. */
    @Param({"512"})
    public int slots;

    private static final String MODEL = "llama3.2:latest";

    private Scheduling scheduling;
    /** Running requests in start order, with their backend: the oldest completes next. */
    private final ArrayDeque<Object[]> running = new ArrayDeque<>();
    private long now = 1_000_000_000L;
    private long ids;
    private InferenceRequest request;

    @Setup(Level.Trial)
    public void fill() {
        String[] specs = new String[backends];
        for (int b = 0; b < backends; b++) {
            specs[b] = "b" + b + ":" + slots + ":" + MODEL;
        }
        Fleet fleet = Fixtures.fleet(specs);
        scheduling = Scheduling.create(fleet, SchedulerSettings.defaults(), "eft", CostHints.defaults(),
                EstimatorSettings.defaults().withExactInlineChars(0), null, () -> now, false, null);
        request = new InferenceRequest(MODEL, false, -1, null, "Why is the sky blue?", 0, 0, "", false, 0);
        for (int i = 0; i < inFlight + waiting; i++) {
            arrive();
        }
        if (running.size() != inFlight) {
            throw new IllegalStateException(running.size() + " running, not " + inFlight
                    + ": inFlight must leave a slot free, and waiting requests need a full fleet");
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        scheduling.close();
    }

    /** One arrival dispatched at once, and one completion. */
    @Benchmark
    public int arriveAndComplete() {
        now += 100_000L;
        arrive();
        Object[] oldest = running.pollFirst();
        scheduling.scheduler().complete((PendingRequest) oldest[0], (Backend) oldest[1], SAMPLE);
        return running.size();
    }

    private static final TimingSample SAMPLE = Fixtures.sample(12, 20, 2000, 200);

    private void arrive() {
        PendingRequest[] self = new PendingRequest[1];
        self[0] = new PendingRequest(++ids, request, MODEL, 0, now, new DispatchTarget() {
            @Override
            public void dispatch(Backend backend) {
                running.addLast(new Object[] {self[0], backend});
            }

            @Override
            public void reject(int status, String message, long retryAfterSeconds) {
                throw new IllegalStateException("rejected " + status + ": " + message);
            }
        });
        scheduling.estimate(self[0], null);
        scheduling.scheduler().submit(self[0]);
    }
}
