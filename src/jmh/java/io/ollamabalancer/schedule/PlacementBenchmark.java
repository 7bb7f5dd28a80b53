package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.CostModel;
import io.ollamabalancer.estimate.DecodeShare;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * What one placement plan costs (issue #9; the plan runs on the scheduler's sweep timer every 2 s, off the event
 * loops, but on the same cores): {@code backends} backends that each hold {@code perBackend} models at once, half of
 * them three times slower than the others, {@code models} models with Zipf demand, all speeds learned. One operation
 * makes a plan afresh (the clock moves past the plan interval each time), from the plan before it, with demand
 * noise from new arrivals, so the hysteresis and the fresh plan's search both run.
 *
 * <p>Not thread-safe: one benchmark thread per state (JMH's {@link Scope#Thread}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class PlacementBenchmark {
    @Param({"4", "16"})
    public int backends;
    @Param({"6", "12"})
    public int models;
    @Param({"2"})
    public int perBackend;

    private static final long S = 1_000_000_000L;

    private PlacementPlanner planner;
    private ModelDemand demand;
    private List<String> names;
    /** The Zipf weights' running sums, 1 + 1/2 + ... up to each model. */
    private double[] cumulative;
    private final SplittableRandom random = new SplittableRandom(42);
    private long now;

    @Setup
    public void setUp() {
        names = new ArrayList<>();
        cumulative = new double[models];
        for (int m = 0; m < models; m++) {
            names.add("model" + m + ":latest");
            cumulative[m] = (m == 0 ? 0 : cumulative[m - 1]) + 1.0 / (m + 1);
        }
        CostModel cost = new CostModel(CostHints.defaults(), () -> 0L);
        List<BackendConfig> configs = new ArrayList<>();
        for (int b = 0; b < backends; b++) {
            String name = "b" + b;
            configs.add(new BackendConfig(name, URI.create("http://127.0.0.1:1"), 2, names, true, perBackend, 0));
            double decode = b % 2 == 0 ? 150 : 50;
            for (int i = 0; i < 20; i++) {
                for (String m : names) {
                    cost.record(name, m, Fixtures.sample(100, 100, decode * 20, decode), DecodeShare.constant(1));
                }
            }
        }
        Fleet fleet = new Fleet(configs);
        demand = new ModelDemand(60 * S, (model, prompt, output) -> prompt / 100 * S);
        planner = new PlacementPlanner(demand, cost, 2 * S);
        planner.backends(fleet::all);
        // Ten minutes of Zipf demand at about half the fleet's capacity.
        now = 0;
        for (int k = 0; k < 6_000; k++) {
            arrive();
        }
        planner.plan(now);
    }

    /** One arrival, its model drawn by Zipf weight, 0.1 s after the last. */
    private void arrive() {
        now += S / 10;
        double u = random.nextDouble() * cumulative[models - 1];
        int m = 0;
        while (m < models - 1 && cumulative[m] < u) {
            m++;
        }
        demand.arrived(names.get(m), 100, 1, now);
    }

    @Benchmark
    public PlacementPlan plan() {
        for (int k = 0; k < 20; k++) {
            arrive();
        }
        return planner.plan(now);
    }
}
