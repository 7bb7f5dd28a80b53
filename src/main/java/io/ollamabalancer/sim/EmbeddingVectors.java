package io.ollamabalancer.sim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.SplittableRandom;

/**
 * Deterministic fake embeddings: a Gaussian vector seeded by (seed, model, text), L2-normalised, so equal inputs get
 * equal vectors and different inputs nearly orthogonal ones. Stateless.
 */
final class EmbeddingVectors {
    private EmbeddingVectors() {
    }

    /** A unit vector of {@code dims} floats; {@code truncateTo} in (0, dims) shortens and re-normalises it. */
    static float[] unit(long seed, String model, String text, int dims, int truncateTo) {
        SplittableRandom r = new SplittableRandom(
                BodyHash.mix(seed ^ BodyHash.of(ModelCatalog.normalize(model) + '\u0000' + text)));
        int n = truncateTo > 0 && truncateTo < dims ? truncateTo : dims;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return normalize(v);
    }

    static float[] normalize(float[] v) {
        double sum = 0;
        for (float f : v) {
            sum += (double) f * f;
        }
        double norm = Math.sqrt(sum);
        if (norm == 0) {
            return v;
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] / norm);
        }
        return v;
    }

    /** The legacy endpoint's raw (not normalised) vector: the unit vector times a text-dependent norm in [4, 20). */
    static double[] raw(long seed, String model, String text, int dims) {
        float[] unit = unit(seed, model, text, dims, 0);
        double scale = 4 + new SplittableRandom(BodyHash.of(text)).nextDouble() * 16;
        double[] out = new double[unit.length];
        for (int i = 0; i < unit.length; i++) {
            out[i] = unit[i] * scale;
        }
        return out;
    }

    /** OpenAI {@code encoding_format:"base64"}: little-endian float32 bytes, standard Base64. */
    static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return Base64.getEncoder().encodeToString(b.array());
    }
}
