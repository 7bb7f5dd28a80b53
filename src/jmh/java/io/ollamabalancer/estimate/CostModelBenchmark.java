package io.ollamabalancer.estimate;

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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What learning from one response costs the thread that completes it (an event loop): {@link CostModel#record},
 * which rebuilds the fleet-wide averages (the additive fit over every backend × model pair) when a pair moved
 * materially or a rebuild is due. Here every operation is a rebuild: the clock moves past the rebuild interval
 * between responses and each response moves its pair, so the figure is the worst case of a completion's learning,
 * as a function of the fleet's size.
 *
 * <p>Not thread-safe: one benchmark thread per state; no buffers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
public class CostModelBenchmark {
    @Param({"16", "64"})
    public int backends;
    @Param({"3", "30"})
    public int models;

    private long clock;
    private CostModel cost;
    private String[] backendNames;
    private String[] modelNames;
    private int next;

    @Setup(Level.Trial)
    public void learn() {
        cost = new CostModel(CostHints.defaults(), () -> clock);
        backendNames = new String[backends];
        modelNames = new String[models];
        for (int b = 0; b < backends; b++) {
            backendNames[b] = "backend-" + b;
        }
        for (int m = 0; m < models; m++) {
            modelNames[m] = "model-" + m + ":latest";
        }
        for (int i = 0; i < 20; i++) {
            for (int b = 0; b < backends; b++) {
                for (int m = 0; m < models; m++) {
                    record(b, m, 40 + b + m, 1 + (i % 2));
                }
            }
        }
    }

    private void record(int b, int m, double decodeTps, double concurrency) {
        long evalNs = (long) (100 / decodeTps * 1e9);
        long promptNs = 20_000_000L;
        cost.record(backendNames[b], modelNames[m], new TimingSample(200, promptNs, 100, evalNs, 0,
                promptNs + evalNs), DecodeShare.constant(concurrency));
    }

    @Benchmark
    public Speeds recordWithRebuild() {
        int i = next++;
        int b = i % backends;
        int m = (i / backends) % models;
        clock += 60_000_000_000L;
        // Each visit of a pair alternately faster and slower than the last: its figures move every time.
        boolean faster = (i / (backends * models)) % 2 == 0;
        record(b, m, (40 + b + m) * (faster ? 1.5 : 0.67), 1);
        return cost.speeds(backendNames[b], modelNames[m]);
    }
}
