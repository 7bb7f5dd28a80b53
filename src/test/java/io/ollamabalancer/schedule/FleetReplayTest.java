package io.ollamabalancer.schedule;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replays synthetic traffic through the real scheduler in virtual time and prints, per scenario and load, mean /
 * p50 / p99 latency of every policy next to an offline oracle. Asserts only robust properties; the table is the
 * evidence for the targets. {@code -Dreplay.jobs=3000} (the figures reported) runs longer traces than the
 * default, which keeps the test to a few seconds.
 */
class FleetReplayTest {
    private static final String A = "llama3.2:latest";
    private static final String B = "qwen2.5:latest";
    private static final int JOBS = Integer.getInteger("replay.jobs", 1200);

    static FleetReplay.Scenario fast311() {
        return new FleetReplay.Scenario("3:1:1, one slot each", List.of(
                new FleetReplay.VirtualBackend("fast", 3, 1, List.of(A), List.of(A)),
                new FleetReplay.VirtualBackend("slow1", 1, 1, List.of(A), List.of(A)),
                new FleetReplay.VirtualBackend("slow2", 1, 1, List.of(A), List.of(A))), Map.of(A, 1.0));
    }

    static FleetReplay.Scenario equal() {
        return new FleetReplay.Scenario("equal speeds", List.of(
                new FleetReplay.VirtualBackend("e1", 1, 1, List.of(A), List.of(A)),
                new FleetReplay.VirtualBackend("e2", 1, 1, List.of(A), List.of(A)),
                new FleetReplay.VirtualBackend("e3", 1, 1, List.of(A), List.of(A))), Map.of(A, 1.0));
    }

    static FleetReplay.Scenario subset() {
        return new FleetReplay.Scenario("model B on a subset (3:1:1)", List.of(
                new FleetReplay.VirtualBackend("fast", 3, 1, List.of(A, B), List.of(A, B)),
                new FleetReplay.VirtualBackend("slow1", 1, 1, List.of(A, B), List.of(A, B)),
                new FleetReplay.VirtualBackend("slow2", 1, 1, List.of(A), List.of(A))), Map.of(A, 0.6, B, 0.4));
    }

    static FleetReplay.Scenario cold() {
        return new FleetReplay.Scenario("one backend cold (3:1:1)", List.of(
                new FleetReplay.VirtualBackend("fast", 3, 1, List.of(A), List.of()),
                new FleetReplay.VirtualBackend("slow1", 1, 1, List.of(A), List.of(A)),
                new FleetReplay.VirtualBackend("slow2", 1, 1, List.of(A), List.of(A))), Map.of(A, 1.0));
    }

    private static final String[][] POLICIES = {
            {"eft", "SJF"}, {"eft", "FIFO"}, {"least-connections", "FIFO"}, {"least-connections", "SJF"},
            {"round-robin", "FIFO"}, {"legacy", "FIFO"}};

    private static List<FleetReplay.Result> runAll(FleetReplay.Scenario sc, double load, int jobs, long seed) {
        List<FleetReplay.Job> unit = FleetReplay.trace(seed, jobs, 1.0, sc.modelMix(), 0.3, 0.0);
        List<FleetReplay.Job> trace = FleetReplay.atRate(unit, sc.rateFor(load, unit));
        List<FleetReplay.Result> out = new ArrayList<>();
        for (String[] p : POLICIES) {
            out.add(FleetReplay.run(sc, trace, p[0], QueueOrder.valueOf(p[1])));
        }
        out.add(FleetReplay.oracle(sc, trace));
        return out;
    }

    private static FleetReplay.Result find(List<FleetReplay.Result> rs, String name) {
        return rs.stream().filter(r -> r.policy().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void printsTheComparisonTableAndEftBeatsRoundRobinOn311() {
        StringBuilder table = new StringBuilder();
        table.append(String.format("%n%-30s %5s  %-24s %9s %9s %9s  %s%n", "scenario", "load", "policy", "mean s",
                "p50 s", "p99 s", "dispatches per backend"));
        List<FleetReplay.Result> fast50 = null;
        for (FleetReplay.Scenario sc : List.of(fast311(), equal(), subset(), cold())) {
            for (double load : new double[] {0.5, 0.7, 0.85}) {
                List<FleetReplay.Result> rs = runAll(sc, load, JOBS, 42);
                if (sc.name().startsWith("3:1:1") && load == 0.5) {
                    fast50 = rs;
                }
                for (FleetReplay.Result r : rs) {
                    table.append(String.format("%-30s %4.0f%%  %-24s %9.2f %9.2f %9.2f  %s%n", sc.name(), load * 100,
                            r.policy(), r.mean(), r.p50(), r.p99(), r.perBackend()));
                }
            }
        }
        System.out.println(table);
        assertThat(find(fast50, "eft/sjf").mean()).isLessThan(find(fast50, "round-robin/fifo").mean());
        assertThat(find(fast50, "eft/sjf").perBackend().get("fast"))
                .isGreaterThan(find(fast50, "eft/sjf").perBackend().get("slow1"));
    }

    @Test
    void highPriorityWaitsFarLessThanLowAtNinetyPercentLoad() {
        FleetReplay.Scenario sc = fast311();
        List<FleetReplay.Job> unit = FleetReplay.trace(7, JOBS, 1.0, sc.modelMix(), 0.3, 0.2);
        List<FleetReplay.Job> trace = FleetReplay.atRate(unit, sc.rateFor(0.9, unit));
        FleetReplay.Result r = FleetReplay.run(sc, trace, "eft", QueueOrder.SJF);
        System.out.printf("%n90%% load, 20%% high priority, eft/sjf: p99 queue wait high %.2f s, low %.2f s%n",
                r.highWaitP99(), r.lowWaitP99());
        assertThat(r.highWaitP99()).isLessThan(r.lowWaitP99());
    }
}
