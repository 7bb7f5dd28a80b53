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

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler's dispatch decision on a large fleet (issue #11): {@code backends} backends × {@code models} models,
 * every slot busy and {@code queued} requests waiting. One operation is one turn of the steady state: the oldest
 * running request completes (its timing is learned, and the freed slot makes the scheduler choose which waiting
 * request starts there, looking through the queues with the configured policy), then a new request arrives and
 * waits. Both run on the benchmark thread, as they would on an event loop. Sample mode gives the percentiles.
 *
 * <p>Not thread-safe: one benchmark thread per state (JMH's {@link Scope#Thread}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class DispatchBenchmark {
    @Param({"16"})
    public int backends;
    @Param({"3"})
    public int models;
    @Param({"1000"})
    public int queued;
    @Param({"eft", "least-connections"})
    public String policy;

    private static final int SLOTS = 4;

    private Scheduling scheduling;
    private List<String> modelNames;
    private final SplittableRandom random = new SplittableRandom(42);
    /** Running requests in start order, with their backend: the oldest completes next. */
    private final ArrayDeque<Object[]> running = new ArrayDeque<>();
    private long now = 1_000_000_000L;
    private long ids;

    @Setup(Level.Trial)
    public void fill() {
        modelNames = new ArrayList<>();
        for (int m = 0; m < models; m++) {
            modelNames.add("model" + m + ":latest");
        }
        String served = String.join(",", modelNames);
        String[] specs = new String[backends];
        for (int b = 0; b < backends; b++) {
            specs[b] = "b" + b + ":" + SLOTS + ":" + served;
        }
        Fleet fleet = Fixtures.fleet(specs);
        SchedulerSettings settings = SchedulerSettings.defaults()
                .withLimits(new QueueLimits(queued * 4, Duration.ofHours(1).toNanos()));
        scheduling = Scheduling.create(fleet, settings, policy, CostHints.defaults(),
                EstimatorSettings.defaults().withExactInlineChars(0), null, () -> now, false, null);
        // Speeds are learned from the completions of the warm-up iterations (a third of the backends are 3x faster),
        // as a fleet that has served a while knows them.
        for (int i = 0; i < backends * SLOTS + queued; i++) {
            arrive();
        }
        if (scheduling.scheduler().queues().values().stream().mapToInt(ModelQueue::size).sum() < queued) {
            throw new IllegalStateException("the queues did not fill: the benchmark would measure nothing");
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        scheduling.close();
    }

    /** One completion (and the dispatch decision it triggers) and one arrival. */
    @Benchmark
    public int completeAndArrive() {
        now += 1_000_000L;
        Object[] oldest = running.pollFirst();
        if (oldest != null) {
            scheduling.scheduler().complete((PendingRequest) oldest[0], (Backend) oldest[1],
                    sample(((Backend) oldest[1]).name().hashCode() % 3 == 0 ? 150 : 50));
        }
        arrive();
        return running.size();
    }

    private void arrive() {
        PendingRequest p = request(modelNames.get(random.nextInt(modelNames.size())));
        scheduling.estimate(p, null);
        scheduling.scheduler().submit(p);
    }

    private PendingRequest request(String model) {
        InferenceRequest r = new InferenceRequest(model, true, -1, null, "x".repeat(40 + random.nextInt(400)), 0, 0,
                "", false, 0);
        PendingRequest[] self = new PendingRequest[1];
        self[0] = new PendingRequest(++ids, r, model, 0, now, new DispatchTarget() {
            @Override
            public void dispatch(Backend backend) {
                running.addLast(new Object[] {self[0], backend});
            }

            @Override
            public void reject(int status, String message, long retryAfterSeconds) {
                throw new IllegalStateException("rejected " + status + ": " + message);
            }
        });
        return self[0];
    }

    private TimingSample sample(double decodeTps) {
        return Fixtures.sample(100 + random.nextInt(300), 50 + random.nextInt(400), decodeTps * 20, decodeTps);
    }
}
