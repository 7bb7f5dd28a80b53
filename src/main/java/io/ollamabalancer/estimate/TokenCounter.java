package io.ollamabalancer.estimate;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * Exact prompt token counts with a real BPE tokenizer: cl100k for Latin-script text and code (it matches Llama 3
 * counts closely there), o200k for mostly CJK or Cyrillic text (closer to modern multilingual vocabularies). No
 * local model tokenizer is exactly Ollama's, so callers still scale the count by a ratio learned per model from
 * {@code prompt_eval_count}.
 *
 * <p>Thread-safe: the encodings are immutable. Costly (about 0.7 ms for 4k tokens on one core, and no prompt is free),
 * so it runs off the event loops; see {@link RequestEstimator}. Build one per process ({@link #shared()}):
 * loading the vocabularies takes a few hundred milliseconds and tens of megabytes.
 */
public final class TokenCounter {
    private static volatile TokenCounter shared;

    private final Encoding latin;
    private final Encoding multilingual;

    private TokenCounter(EncodingRegistry registry) {
        latin = registry.getEncoding(EncodingType.CL100K_BASE);
        multilingual = registry.getEncoding(EncodingType.O200K_BASE);
    }

    /** The process-wide counter, loaded on first use. */
    public static TokenCounter shared() {
        TokenCounter c = shared;
        if (c == null) {
            synchronized (TokenCounter.class) {
                c = shared;
                if (c == null) {
                    c = new TokenCounter(Encodings.newLazyEncodingRegistry());
                    shared = c;
                }
            }
        }
        return c;
    }

    /** Tokens in {@code text}, special-token markers counted as ordinary text. */
    public int count(String text, TextProfile profile) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        Encoding e = profile.mostlyNonLatin() ? multilingual : latin;
        return e.countTokensOrdinary(text);
    }

    public int count(String text) {
        return count(text, TextProfile.of(text));
    }
}
