package io.ollamabalancer.sim;

import java.util.List;
import java.util.Objects;

/**
 * One model the simulator has installed. Immutable.
 *
 * @param name           the name as Ollama would list it, e.g. {@code llama3.2:1b}; a missing tag means {@code :latest}
 * @param sizeBytes      file size in bytes ({@code /api/tags} {@code size})
 * @param family         model family, also used as the GGUF architecture, e.g. {@code llama}, {@code qwen2}, {@code bert}
 * @param parameterSize  e.g. {@code 1.2B}
 * @param quantization   e.g. {@code Q4_K_M}
 * @param embeddingDims  vector length for an embedding model; 0 means a completion (generate/chat) model
 * @param loadedAtStart  whether the model is warm when the simulator starts; otherwise the first use pays the load time
 */
public record SimModel(String name, long sizeBytes, String family, String parameterSize, String quantization,
                       int embeddingDims, boolean loadedAtStart) {

    public SimModel {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(parameterSize, "parameterSize");
        Objects.requireNonNull(quantization, "quantization");
        if (name.isBlank()) {
            throw new IllegalArgumentException("model name must not be blank");
        }
        if (sizeBytes < 0 || embeddingDims < 0) {
            throw new IllegalArgumentException("sizeBytes and embeddingDims must be >= 0: " + name);
        }
    }

    /** A generate/chat model. */
    public static SimModel completion(String name, long sizeBytes, String family, String parameterSize,
                                      String quantization, boolean loadedAtStart) {
        return new SimModel(name, sizeBytes, family, parameterSize, quantization, 0, loadedAtStart);
    }

    /** An embedding model producing vectors of {@code dims} floats. */
    public static SimModel embedding(String name, long sizeBytes, String family, String parameterSize,
                                     String quantization, int dims, boolean loadedAtStart) {
        if (dims <= 0) {
            throw new IllegalArgumentException("an embedding model needs dims > 0: " + name);
        }
        return new SimModel(name, sizeBytes, family, parameterSize, quantization, dims, loadedAtStart);
    }

    /** Whether this is an embedding-only model (capability {@code embedding} instead of {@code completion}). */
    public boolean isEmbedding() {
        return embeddingDims > 0;
    }

    /** The same model, warm or cold at start. */
    public SimModel withLoadedAtStart(boolean loaded) {
        return new SimModel(name, sizeBytes, family, parameterSize, quantization, embeddingDims, loaded);
    }

    /**
     * A small realistic catalogue: {@code llama3.2:1b} (warm), {@code qwen2.5:0.5b} (cold) and the embedding model
     * {@code all-minilm} (384 dims, cold).
     */
    public static List<SimModel> defaults() {
        return List.of(
                completion("llama3.2:1b", 1_321_098_329L, "llama", "1.2B", "Q8_0", true),
                completion("qwen2.5:0.5b", 397_821_319L, "qwen2", "494.03M", "Q4_K_M", false),
                embedding("all-minilm", 45_960_996L, "bert", "23M", "F16", 384, false));
    }
}
