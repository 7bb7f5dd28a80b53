package io.ollamabalancer.cli;

import io.ollamabalancer.config.ConfigException;
import io.ollamabalancer.replay.FairnessBench;
import io.ollamabalancer.replay.Outcome;
import io.ollamabalancer.replay.OutcomeFile;
import io.ollamabalancer.replay.PlanTimeline;
import io.ollamabalancer.replay.ReplayClient;
import io.ollamabalancer.replay.ResultsSection;
import io.ollamabalancer.replay.SchedulingBench;
import io.ollamabalancer.replay.SimFleet;
import io.ollamabalancer.replay.Summary;
import io.ollamabalancer.replay.Trace;
import io.ollamabalancer.replay.TraceFile;
import io.ollamabalancer.replay.TraceGenerator;
import io.ollamabalancer.replay.TraceShape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code replay}: the scheduling benchmark's tools. {@code trace} writes a seeded trace for a fleet file at a load
 * (and the accelerated fleet file to start), {@code run} replays a trace over real sockets against a balancer and
 * writes each request's outcome, {@code bench} runs the discrete-event matrix, compares the real runs and writes
 * the scheduling section of a results file. Parsing only; the work is in {@code io.ollamabalancer.replay}. Runs on
 * the calling thread.
 */
@Command(name = "replay", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        subcommands = {ReplayCommand.TraceCmd.class, ReplayCommand.RunCmd.class, ReplayCommand.BenchCmd.class,
                ReplayCommand.FairnessCmd.class, ReplayCommand.PlansCmd.class},
        description = "Scheduling benchmark: generate traces, replay them over real sockets, simulate and report.")
final class ReplayCommand implements Callable<Integer> {
    static final String DEFAULT_MIX = "llama3.2:1b=0.7,qwen2.5:0.5b=0.3";
    /** Added to the trace seed for the warm-up requests, so they differ from the measured ones. */
    static final long WARMUP_SEED = 1000;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: trace, run, bench, fairness or plans");
    }

    /** Options every trace shares. */
    static final class Shape {
        @Option(names = "--requests", paramLabel = "N", description = "requests per trace (default 400)")
        int requests = 400;

        @Option(names = "--seed", paramLabel = "N", description = "trace seed (default 42)")
        long seed = 42;

        @Option(names = "--mix", paramLabel = "MODEL=SHARE,...",
                description = "model mix (default " + DEFAULT_MIX + "); `replay trace` also takes zipf[:S], Zipf "
                        + "demand over the fleet's models in file order")
        String mix = DEFAULT_MIX;

        TraceShape shape() {
            if (isZipf(mix)) {
                throw new ConfigException("--mix " + mix + ": Zipf needs a fleet (replay trace --fleet, or replay "
                        + "bench --fleet-mix NAME=" + mix + ")");
            }
            return TraceShape.of(requests, parseMix(mix));
        }

        /** The shape for one fleet: {@code --mix zipf[:S]} over its models, otherwise {@link #shape()}. */
        TraceShape shape(SimFleet fleet) {
            if (isZipf(mix)) {
                return TraceShape.of(requests, fleetMix("--mix", mix, fleet));
            }
            return shape();
        }

        private static boolean isZipf(String mix) {
            String m = mix.strip().toLowerCase(Locale.ROOT);
            return m.equals("zipf") || m.startsWith("zipf:");
        }
    }

    /** The fleet file of a command that works on one fleet. */
    static final class OneFleet {
        @Option(names = "--fleet", required = true, paramLabel = "FILE", description = "fleet file")
        Path fleet;

        SimFleet load() {
            return loadFleet(fleet);
        }
    }

    @Command(name = "trace", mixinStandardHelpOptions = true,
            description = "Write a seeded trace for a fleet at a load (and the accelerated fleet file to start).")
    static final class TraceCmd implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Shape shape = new Shape();

        @picocli.CommandLine.Mixin
        OneFleet fleet = new OneFleet();

        @Option(names = "--load", paramLabel = "FRACTION", description = "share of fleet capacity (default 0.7)")
        double load = 0.7;

        @Option(names = "--speedup", paramLabel = "X", description = "token rates ×X, load times ÷X (default 1)")
        double speedup = 1;

        @Option(names = "--high", paramLabel = "SHARE", description = "share with X-Priority: high (default 0)")
        double high;

        @Option(names = "--low", paramLabel = "SHARE", description = "share with X-Priority: low (default 0)")
        double low;

        @Option(names = "--warmup", paramLabel = "N",
                description = "requests sent first to warm up JVMs and learned speeds, left out of figures (default 0)")
        int warmup;

        @Option(names = "--warmup-load", paramLabel = "FRACTION", description = "load of the warm-up (default 0.5)")
        double warmupLoad = 0.5;

        @Option(names = "--warmup-gap", paramLabel = "SECONDS", description = "pause after the warm-up (default 2)")
        double warmupGap = 2;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "the trace to write")
        Path out;

        @Option(names = "--write-fleet", paramLabel = "FILE", description = "write the (accelerated) fleet file")
        Path writeFleet;

        @Override
        public Integer call() throws IOException {
            SimFleet f = fleet.load();
            if (speedup != 1) {
                f = f.speedup(speedup);
            }
            Trace unit = TraceGenerator.generate(f.name(), shape.seed,
                    shape.shape(f).withPriorities(high, low), answers(f));
            Trace trace = unit.atRate(f.name() + " at " + Math.round(load * 100) + "%", f.rateFor(load, unit));
            if (warmup > 0) {
                Trace warm = TraceGenerator.generate("warm-up", shape.seed + WARMUP_SEED,
                        shape.shape(f).withRequests(warmup), answers(f));
                trace = trace.afterWarmup(warm.atRate("warm-up", f.rateFor(warmupLoad, warm)), warmupGap);
            }
            TraceFile.write(trace, out);
            if (writeFleet != null) {
                f.write(writeFleet);
            }
            spec.commandLine().getOut().printf(Locale.ROOT, "%s: %d requests (%d warm-up) at %.2f/s over %.1f s%n",
                    out, trace.size(), trace.warmup(), trace.rate(), trace.span());
            return 0;
        }
    }

    @Command(name = "fairness", mixinStandardHelpOptions = true,
            description = "Two API keys, one sending 10x the other's rate: the light key's queue waits with fair "
                    + "share on and off, on one trace (discrete-event simulation of the real scheduler).")
    static final class FairnessCmd implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Shape shape = new Shape();

        @picocli.CommandLine.Mixin
        OneFleet fleet = new OneFleet();

        @Option(names = "--load", paramLabel = "FRACTION", description = "share of fleet capacity (default 0.9)")
        double load = 0.9;

        @Option(names = "--policy", paramLabel = "NAME", description = "dispatch policy (default eft)")
        String policy = "eft";

        @Option(names = "--results", paramLabel = "FILE", description = "results file to write the section into")
        Path results;

        @Option(names = "--setup", paramLabel = "TEXT", description = "a set-up line (machine, command); repeatable")
        List<String> setup = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            SimFleet f = fleet.load();
            FairnessBench.Report r = FairnessBench.run(f, shape.shape(f), shape.seed, load, policy);
            String md = FairnessBench.markdown(r, setup);
            PrintWriter out = spec.commandLine().getOut();
            out.print(md);
            if (results != null) {
                ResultsSection.write(results, "fairness", md);
                out.println("Wrote the fairness section of " + results);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "plans", mixinStandardHelpOptions = true,
            description = "One trace through eft in the discrete-event simulation, with a timeline of the placement "
                    + "plans in virtual time: each plan change, what the backends hold and what waits every so "
                    + "often, the speeds learned, the outcome. LOG_LEVEL=WARN leaves out the scheduler's own log "
                    + "lines.")
    static final class PlansCmd implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Shape shape = new Shape();

        @picocli.CommandLine.Mixin
        OneFleet fleet = new OneFleet();

        @Option(names = "--load", paramLabel = "FRACTION",
                description = "share of the fleet's capacity with every model loaded everywhere (default 0.6)")
        double load = 0.6;

        @Option(names = "--every", paramLabel = "SECONDS",
                description = "virtual seconds between two lines of what the backends hold (default 60; 0: none)")
        double every = 60;

        @Override
        public Integer call() {
            if (!(load > 0) || every < 0) {
                throw new ParameterException(spec.commandLine(), "--load must be above 0 and --every at least 0");
            }
            SimFleet f = fleet.load();
            Trace unit = TraceGenerator.generate(f.name(), shape.seed, shape.shape(f), answers(f));
            Trace t = unit.atRate(f.name(), f.rateFor(load, unit));
            PrintWriter out = spec.commandLine().getOut();
            PlanTimeline.run(f, t, every, out);
            return 0;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Replay a trace over real sockets (streaming) and write each request's outcome.")
    static final class RunCmd implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--url", required = true, paramLabel = "URL",
                description = "the balancer, e.g. http://127.0.0.1:3000")
        URI url;

        @Option(names = "--trace", required = true, paramLabel = "FILE", description = "trace to replay")
        Path trace;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "outcomes, one JSON line each")
        Path out;

        @Option(names = "--drain", paramLabel = "SECONDS", description = "wait after the last send (default 120)")
        long drain = 120;

        @Option(names = "--timeout", paramLabel = "SECONDS", description = "longest one request may take (default 600)")
        long timeout = 600;

        @Override
        public Integer call() throws IOException, InterruptedException {
            Trace t = TraceFile.read(trace);
            List<Outcome> outcomes;
            try (ReplayClient client = new ReplayClient(url, Duration.ofSeconds(timeout))) {
                outcomes = client.replay(t, Duration.ofSeconds(drain));
            }
            OutcomeFile.write(outcomes, out);
            Summary s = Summary.of(t.name(), t.measured(outcomes));
            PrintWriter w = spec.commandLine().getOut();
            w.printf(Locale.ROOT, "%s (after %d warm-up): %d ok, %d errors; e2e mean %.3f s, p50 %.3f s,"
                            + " p99 %.3f s; TTFT mean %.3f s, p99 %.3f s; %s; sends late by %.3f s at p99%n",
                    out, t.warmup(), s.completed(),
                    s.errors(), s.e2eMean(), s.e2eP50(), s.e2eP99(), s.ttftMean(), s.ttftP99(), s.perBackend(),
                    s.sendLagP99());
            for (Outcome o : outcomes) {
                if (!o.ok()) {
                    w.println("first error: request " + o.id() + ": " + o.error());
                    break;
                }
            }
            return s.errors() == 0 ? 0 : 1;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Simulate every fleet × load × policy and the oracle, compare real runs, write the report.")
    static final class BenchCmd implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @picocli.CommandLine.Mixin
        Shape shape = new Shape();

        @Option(names = "--fleets", required = true, split = ",", paramLabel = "FILE", description = "fleet files")
        List<Path> fleets;

        @Option(names = "--loads", split = ",", paramLabel = "FRACTION", description = "default 0.5,0.7,0.85")
        List<Double> loads = List.of(0.5, 0.7, 0.85);

        @Option(names = "--policies", split = ",", paramLabel = "NAME",
                description = "default eft,least-connections,least-connections-late,round-robin,legacy")
        List<String> policies = List.of("eft", "least-connections", "least-connections-late", "round-robin",
                "legacy");

        @Option(names = "--target-fleet", paramLabel = "NAME", description = "the 3:1:1 fleet (default fast-311)")
        String targetFleet = "fast-311";

        @Option(names = "--equal-fleet", paramLabel = "NAME", description = "the equal-speed fleet (default equal)")
        String equalFleet = "equal";

        @Option(names = "--priority-load", paramLabel = "FRACTION", description = "default 0.9")
        double priorityLoad = 0.9;

        @Option(names = "--priority-high", paramLabel = "SHARE", description = "default 0.2")
        double priorityHigh = 0.2;

        @Option(names = "--priority-low", paramLabel = "SHARE", description = "default 0.3")
        double priorityLow = 0.3;

        @Option(names = "--priority-policies", split = ",", paramLabel = "NAME",
                description = "default eft,least-connections")
        List<String> priorityPolicies = List.of("eft", "least-connections");

        @Option(names = "--real-fleet", paramLabel = "FILE", description = "the accelerated fleet the real runs used")
        Path realFleet;

        @Option(names = "--real-trace", paramLabel = "FILE", description = "the trace the real runs replayed")
        Path realTrace;

        @Option(names = "--real-load", paramLabel = "FRACTION", description = "the load of that trace (default 0.7)")
        double realLoad = 0.7;

        @Option(names = "--real", paramLabel = "POLICY[#ROUND]=FILE",
                description = "outcomes of a real run; repeatable (eft#2=FILE for a second round of eft)")
        Map<String, Path> real = new LinkedHashMap<>();

        @Option(names = "--real-priority", paramLabel = "POLICY=FILE", description = "outcomes of a real priority run")
        Map<String, Path> realPriority = new LinkedHashMap<>();

        @Option(names = "--real-priority-trace", paramLabel = "FILE", description = "the trace of that run")
        Path realPriorityTrace;

        @Option(names = "--sweep-seeds", split = ",", paramLabel = "N",
                description = "trace seeds the targets are judged over (default 1,2,3,4,5)")
        List<Long> sweepSeeds = List.of(1L, 2L, 3L, 4L, 5L);

        @Option(names = "--sweep-requests", paramLabel = "N", description = "requests per sweep trace (default 3000)")
        int sweepRequests = 3000;

        @Option(names = "--fleet-mix", paramLabel = "NAME=MIX",
                description = "a fleet's own model mix, repeatable: NAME is the fleet file's name without .json, "
                        + "MIX is MODEL:WEIGHT,... (e.g. swap=llama3.2:1b:50,qwen2.5:0.5b:30,gemma3:1b:20) or "
                        + "zipf[:S] (Zipf over the fleet's models in file order, S default 1)")
        Map<String, String> fleetMix = new LinkedHashMap<>();

        @Option(names = "--memory-loads", split = ",", paramLabel = "FRACTION",
                description = "loads of memory-limited fleets (maxLoadedModels or vramBytes set), as shares of "
                        + "their no-swap capacity (default 0.4,0.6,0.8)")
        List<Double> memoryLoads = SchedulingBench.DEFAULT_MEMORY_LOADS;

        @Option(names = "--real-swap-fleet", paramLabel = "FILE",
                description = "the accelerated memory-limited fleet of real-socket runs")
        Path realSwapFleet;

        @Option(names = "--real-swap-trace", paramLabel = "FILE", description = "the trace those runs replayed")
        Path realSwapTrace;

        @Option(names = "--real-swap-load", paramLabel = "FRACTION", description = "its load (default 0.6)")
        double realSwapLoad = 0.6;

        @Option(names = "--real-swap", paramLabel = "POLICY=FILE",
                description = "outcomes of a real run on the memory-limited fleet; repeatable")
        Map<String, Path> realSwap = new LinkedHashMap<>();

        @Option(names = "--real-swap-loads", paramLabel = "POLICY=N",
                description = "model loads the simulators counted in that run (GET /sim/counters), ? if unknown;"
                        + " repeatable")
        Map<String, String> realSwapLoads = new LinkedHashMap<>();

        @Option(names = "--results", paramLabel = "FILE", description = "results file to write the section into")
        Path results;

        @Option(names = "--setup", paramLabel = "TEXT", description = "a set-up line (machine, command); repeatable")
        List<String> setup = new ArrayList<>();

        @Option(names = "--note", paramLabel = "TEXT", description = "a note for the report; repeatable")
        List<String> notes = new ArrayList<>();

        @Override
        public Integer call() throws IOException {
            List<SimFleet> all = new ArrayList<>();
            for (Path p : fleets) {
                SimFleet f = loadFleet(p);
                answers(f);
                all.add(f);
            }
            SimFleet rf = realFleet == null ? null : loadFleet(realFleet);
            Trace rt = realTrace == null ? null : TraceFile.read(realTrace);
            if ((rf == null) != (rt == null) || (rf == null && !real.isEmpty())) {
                throw new ConfigException("--real-fleet, --real-trace and --real go together");
            }
            Map<String, Map<String, Double>> mixes = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : fleetMix.entrySet()) {
                SimFleet f = all.stream().filter(x -> x.name().equals(e.getKey())).findFirst()
                        .orElseThrow(() -> new ConfigException("--fleet-mix " + e.getKey() + ": no such fleet in"
                                + " --fleets (names: " + all.stream().map(SimFleet::name).toList() + ")"));
                mixes.put(f.name(), fleetMix("--fleet-mix " + f.name(), e.getValue(), f));
            }
            SimFleet sf = realSwapFleet == null ? null : loadFleet(realSwapFleet);
            Trace st = realSwapTrace == null ? null : TraceFile.read(realSwapTrace);
            if ((sf == null) != (st == null) || (sf == null && !realSwap.isEmpty())) {
                throw new ConfigException("--real-swap-fleet, --real-swap-trace and --real-swap go together");
            }
            List<SchedulingBench.RealFile> swapFiles = new ArrayList<>();
            realSwap.forEach((k, v) -> swapFiles.add(new SchedulingBench.RealFile(k, v)));
            List<SchedulingBench.RealFile> realFiles = new ArrayList<>();
            real.forEach((k, v) -> realFiles.add(new SchedulingBench.RealFile(k, v)));
            SchedulingBench.RealFile rp = realPriority.isEmpty() ? null : realPriority.entrySet().stream()
                    .map(e -> new SchedulingBench.RealFile(e.getKey(), e.getValue())).findFirst().orElseThrow();
            PrintWriter out = spec.commandLine().getOut();
            String md = SchedulingBench.run(new SchedulingBench.Config(all, targetFleet, equalFleet, loads, policies,
                    shape.shape(), shape.seed, targetFleet, priorityLoad, priorityHigh, priorityLow,
                    priorityPolicies, rf, rt, realLoad, realFiles, rp,
                    realPriorityTrace == null ? null : TraceFile.read(realPriorityTrace), sweepSeeds, sweepRequests,
                    setup, notes, mixes, memoryLoads, sf, st, realSwapLoad, swapFiles, realSwapLoads), line -> {
                        out.println(line);
                        out.flush();
                    });
            if (results != null) {
                ResultsSection.write(results, "scheduling", md);
                out.println("Wrote the scheduling section of " + results);
            } else {
                out.println(md);
            }
            return 0;
        }
    }

    static SimFleet loadFleet(Path file) {
        String name = file.getFileName().toString().replaceFirst("\\.json$", "");
        return new SimFleet(name, FleetFile.load(file, file.toString()));
    }

    static io.ollamabalancer.replay.SimAnswers answers(SimFleet f) {
        try {
            return f.answers();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(f.name() + ": " + e.getMessage());
        }
    }

    /** A fleet's own mix ({@link io.ollamabalancer.replay.ModelMix}); {@code what} names the option in errors. */
    static Map<String, Double> fleetMix(String what, String text, SimFleet fleet) {
        try {
            return io.ollamabalancer.replay.ModelMix.parse(text, fleet);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(what + ": " + e.getMessage());
        }
    }

    static Map<String, Double> parseMix(String text) {
        Map<String, Double> mix = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.lastIndexOf('=');
            try {
                double share = eq < 0 ? 1.0 : Double.parseDouble(p.substring(eq + 1));
                if (!(share > 0)) {
                    throw new NumberFormatException();
                }
                mix.put(eq < 0 ? p : p.substring(0, eq).strip(), share);
            } catch (NumberFormatException e) {
                throw new ConfigException("--mix: bad share in '" + p + "' (expected MODEL=SHARE, SHARE > 0)");
            }
        }
        if (mix.isEmpty()) {
            throw new ConfigException("--mix: no model given");
        }
        return mix;
    }
}
