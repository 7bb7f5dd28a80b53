package io.ollamabalancer.sim;

import java.util.SplittableRandom;

/**
 * The deterministic answer to one request: how many tokens, which text, why it stops, plus the random draws for
 * timing. Seeded by the simulator's seed and the request-body hash, so the same request to the same simulator gets the
 * same length and text; text and timing use separate streams so jitter never changes the text. Not thread-safe;
 * one per request.
 */
final class OutputPlan {
    /** σ of the log-normal answer length: median ≈ 0.6 × mean, p99 ≈ 6 × mean. */
    static final double LENGTH_SIGMA = 1.0;

    private static final String[] WORDS = {
        "the", "sky", "appears", "blue", "because", "of", "Rayleigh", "scattering", "light", "is", "a", "model",
        "that", "answers", "questions", "about", "many", "things", "and", "it", "can", "be", "useful", "when",
        "you", "need", "quick", "help", "with", "code", "data", "or", "writing", "in", "this", "case", "we",
        "consider", "how", "sunlight", "interacts", "molecules", "air", "shorter", "wavelengths", "are", "more",
        "strongly", "scattered", "than", "longer", "ones", "so", "our", "eyes", "see", "mostly", "&", "colour",
    };
    private static final int PUNCTUATION_BASE = WORDS.length;
    private static final String[] PUNCTUATION = {",", ".", "\n\n"};

    private final SplittableRandom text;
    private final SplittableRandom timing;
    private final long promptSeed;
    private final int tokens;
    private final String doneReason;
    private final double jitter;
    private boolean capitalizeNext = true;

    /**
     * @param seed       the simulator's seed
     * @param bodyHash   hash of the request body
     * @param mean       mean answer length
     * @param max        cap on the drawn length
     * @param numPredict the request's limit; negative means none
     * @param jitter     relative per-token interval jitter
     */
    OutputPlan(long seed, long bodyHash, int mean, int max, int numPredict, double jitter) {
        long base = BodyHash.mix(seed ^ BodyHash.mix(bodyHash));
        SplittableRandom lengths = new SplittableRandom(base);
        this.text = new SplittableRandom(BodyHash.mix(base + 1));
        this.timing = new SplittableRandom(BodyHash.mix(base + 2));
        this.promptSeed = BodyHash.mix(base + 3);
        this.jitter = jitter;
        int drawn = drawLength(lengths, mean, max);
        if (numPredict >= 0 && numPredict <= drawn) {
            tokens = numPredict;
            doneReason = "length";
        } else {
            tokens = drawn;
            doneReason = "stop";
        }
    }

    static int drawLength(SplittableRandom rng, int mean, int max) {
        double mu = Math.log(mean) - LENGTH_SIGMA * LENGTH_SIGMA / 2;
        double n = Math.exp(mu + LENGTH_SIGMA * rng.nextGaussian());
        return (int) Math.max(1, Math.min(max, Math.round(n)));
    }

    /** Tokens this answer will have. */
    int tokens() {
        return tokens;
    }

    /** {@code stop} (natural end) or {@code length} (num_predict reached). */
    String doneReason() {
        return doneReason;
    }

    /** The next token: its vocabulary id (for {@code context}) and text. Call once per token, in order. */
    int nextTokenId() {
        int r = text.nextInt(100);
        if (r < 8 && !capitalizeNext) {
            return PUNCTUATION_BASE + (r < 5 ? 0 : r < 7 ? 1 : 2);
        }
        return text.nextInt(WORDS.length);
    }

    /** The text of a token id, given whether it is the answer's first token. */
    String piece(int id, boolean first) {
        if (id >= PUNCTUATION_BASE) {
            String p = PUNCTUATION[id - PUNCTUATION_BASE];
            capitalizeNext = !p.equals(",");
            return p;
        }
        String w = WORDS[id];
        if (capitalizeNext) {
            w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            capitalizeNext = false;
        }
        return first ? w : " " + w;
    }

    /** A multiplier in [1 − jitter, 1 + jitter] for the next token interval. */
    double jitterFactor() {
        return jitter == 0 ? 1.0 : timing.nextDouble(1 - jitter, 1 + jitter);
    }

    /** Warm-model scheduling overhead reported in {@code load_duration}: 1–4 ms. */
    long warmLoadNanos() {
        return 1_000_000L + timing.nextLong(3_000_000L);
    }

    /** Pseudo token ids of the prompt, for {@code context}. */
    int[] promptIds(int count) {
        SplittableRandom r = new SplittableRandom(promptSeed);
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = 128 + r.nextInt(128_000);
        }
        return ids;
    }

    /** The id {@code context} reports for a generated token. */
    static int contextId(int tokenId) {
        return 1000 + tokenId;
    }
}
