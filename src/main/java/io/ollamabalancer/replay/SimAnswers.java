package io.ollamabalancer.replay;

import io.ollamabalancer.sim.SimulatorConfig;

import java.util.List;
import java.util.SplittableRandom;

/**
 * What the project's simulator will answer to a body, computed in advance: its answer length (a log-normal draw,
 * σ = 1, seeded by the simulator's seed and a hash of the body bytes, capped by {@code maxOutputTokens} and
 * {@code num_predict}) and its prompt count (⌈chars / 4⌉, plus 15 for chat). This mirrors the simulator's own
 * rule so that a trace can carry every request's true length; {@code SimAnswersTest} checks it against a running
 * simulator, so a change there fails loudly here. The simulator's prompt count is not a real tokenizer's.
 *
 * <p>Every simulator of a fleet must share seed, {@code meanOutputTokens} and {@code maxOutputTokens}, so a
 * request's answer does not depend on where it runs ({@link #of(List)} checks). Immutable and thread-safe.
 */
public final class SimAnswers {
    static final int CHAT_TEMPLATE_TOKENS = 15;
    private static final double LENGTH_SIGMA = 1.0;

    private final long seed;
    private final int mean;
    private final int max;

    public SimAnswers(long seed, int meanOutputTokens, int maxOutputTokens) {
        this.seed = seed;
        this.mean = meanOutputTokens;
        this.max = maxOutputTokens;
    }

    /**
     * @throws IllegalArgumentException when the simulators differ in seed or output-length settings
     */
    public static SimAnswers of(List<SimulatorConfig> fleet) {
        SimulatorConfig first = fleet.get(0);
        for (SimulatorConfig c : fleet) {
            if (c.seed() != first.seed() || c.meanOutputTokens() != first.meanOutputTokens()
                    || c.maxOutputTokens() != first.maxOutputTokens()) {
                throw new IllegalArgumentException("simulator \"" + c.name() + "\" differs from \"" + first.name()
                        + "\" in seed, meanOutputTokens or maxOutputTokens; a replayed request must get the same"
                        + " answer wherever it runs");
            }
        }
        return new SimAnswers(first.seed(), first.meanOutputTokens(), first.maxOutputTokens());
    }

    /** The {@code eval_count} the simulator will report for {@code body}, whose {@code num_predict} is given. */
    public int outputTokens(byte[] body, int numPredict) {
        long base = mix(seed ^ mix(hash(body)));
        SplittableRandom lengths = new SplittableRandom(base);
        double mu = Math.log(mean) - LENGTH_SIGMA * LENGTH_SIGMA / 2;
        double n = Math.exp(mu + LENGTH_SIGMA * lengths.nextGaussian());
        int drawn = (int) Math.max(1, Math.min(max, Math.round(n)));
        return numPredict >= 0 && numPredict <= drawn ? numPredict : drawn;
    }

    /** The {@code prompt_eval_count} the simulator will report for this many prompt characters. */
    public static int promptTokens(String route, long chars) {
        long t = (chars + 3) / 4 + (TraceRequest.CHAT.equals(route) ? CHAT_TEMPLATE_TOKENS : 0);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, t));
    }

    /** FNV-1a over the bytes, then the SplitMix64 finaliser. */
    static long hash(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
