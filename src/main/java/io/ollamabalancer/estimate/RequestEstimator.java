package io.ollamabalancer.estimate;

import static java.util.Collections.unmodifiableMap;

import io.ollamabalancer.request.BodyShape;
import io.ollamabalancer.request.InferenceRequest;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Estimates a request's prompt and output tokens, and learns from each response how wrong it was.
 *
 * <p><b>Prompt.</b> {@code raw = text tokens + template overhead + images}. {@link #estimate} takes the text tokens
 * from the character census scaled by a calibration learned from every exact count (or from the tokenizer for
 * prompts up to {@link EstimatorSettings#exactInlineChars()}, none by default); {@link #exact} computes the exact
 * figure, off the event loops, and teaches the calibration. The estimate is {@code raw × r(model)}, where {@code r} is a robust running mean of
 * {@code prompt_eval_count / raw} per model: it absorbs the gap between our tokenizer and the model's, and the
 * model's own system prompt.
 *
 * <p><b>Output.</b> {@code E[min(L, cap)]} under the model's learned length distribution ({@link OutputLengths}),
 * where the cap is {@code num_predict} or {@code max_tokens}; 0 for embeddings.
 *
 * <p><b>Cluster.</b> What other replicas learned ({@link #prior}) is a prior: the prompt ratios and the character
 * calibration blend with this replica's own by {@link Blend}'s weights, and the output-length summary replaces the
 * default seed of each model's distribution. {@link #ownPromptRatios}, {@link #ownCalibration} and
 * {@link #ownOutputLengths} export only this replica's own samples.
 *
 * <p>Thread-safe: per-model state lives in a concurrent map; each learned figure is an immutable value swapped
 * under its owner's lock, and read without one; the imported prior is an immutable value in a volatile field. A
 * model first seen while a prior is being installed may keep the previous prior until the next one.
 */
public final class RequestEstimator {
    private static final double MIN_RATIO = 0.2;
    private static final double MAX_RATIO = 5.0;
    /** A prior narrower than this (a few bucket widths) would make one bucket certain. */
    private static final double MIN_LOG_SD = 0.2;
    /** Texts with fewer length-based tokens than this teach the calibration nothing: one token is too much of it. */
    private static final int MIN_CALIBRATION = 8;

    private final TokenCounter counter;
    private final EstimatorSettings settings;
    private final Map<String, ModelState> models = new ConcurrentHashMap<>();
    private volatile RobustEwma calibration = RobustEwma.EMPTY;
    private volatile Shared shared = Shared.NONE;

    /** @param counter the tokenizer, or {@code null} to use only length-based estimates */
    public RequestEstimator(TokenCounter counter, EstimatorSettings settings) {
        this.counter = counter;
        this.settings = settings;
    }

    public EstimatorSettings settings() {
        return settings;
    }

    /**
     * The estimate to use now, cheap enough for an event loop: length-based ({@code promptExact=false}), or exact for
     * prompts up to {@link EstimatorSettings#exactInlineChars()}.
     */
    public RequestEstimate estimate(InferenceRequest request, BodyShape shape, String modelKey) {
        String text = request.promptText();
        boolean inline = counter != null && text != null && settings.exactInlineChars() > 0
                && text.length() <= settings.exactInlineChars();
        return build(request, shape, modelKey, inline);
    }

    /** The estimate with the tokenizer's count, whatever the prompt's length (call it off the event loop). */
    public RequestEstimate exact(InferenceRequest request, BodyShape shape, String modelKey) {
        return build(request, shape, modelKey, counter != null);
    }

    /**
     * Whether {@link #exact} is worth its cost for {@code request}, estimated {@code e}: a tokenizer is available, the
     * estimate was length-based, and the text is long enough to teach the calibration ({@value #MIN_CALIBRATION}
     * length-based tokens; shorter prompts are off by a token or two at most, which no decision notices).
     */
    public boolean wantsExact(InferenceRequest request, RequestEstimate e) {
        if (counter == null || e.promptExact()) {
            return false;
        }
        String text = request.promptText();
        if (text == null) {
            return false;
        }
        // Any text of this length has enough length-based tokens (at most four characters make one).
        return text.length() >= MIN_CALIBRATION * 4 || lengthBased(TextProfile.of(text)) >= MIN_CALIBRATION;
    }

    private RequestEstimate build(InferenceRequest request, BodyShape shape, String modelKey, boolean tokenize) {
        boolean embedding = shape != null && shape.isEmbedding();
        int cap = request.maxOutputTokens() < 0 ? -1 : request.maxOutputTokens();
        if (request.emptyPrompt()) {
            return new RequestEstimate(0, 0, cap, 0, true, embedding);
        }
        String text = request.promptText();
        TextProfile profile = TextProfile.of(text);
        int textTokens;
        if (tokenize && text != null) {
            textTokens = counter.count(text, profile);
            learnCalibration(profile, textTokens);
        } else {
            textTokens = (int) Math.round(lengthBased(profile) * Math.exp(calibrationLog()));
        }
        int raw = Math.max(1, textTokens + overhead(request, shape) + request.imageCount() * settings.imageTokens());
        int prompt = (int) Math.max(1, Math.round(raw * promptRatio(modelKey)));
        int output = embedding ? 0 : (int) Math.round(state(modelKey).outputs.view().expectedCapped(cap));
        return new RequestEstimate(prompt, output, cap, raw, tokenize || text == null, embedding);
    }

    private double lengthBased(TextProfile p) {
        return p.ascii() / settings.asciiCharsPerToken() + p.dense() * settings.denseTokensPerChar()
                + p.other() * settings.otherTokensPerChar();
    }

    private int overhead(InferenceRequest request, BodyShape shape) {
        if (shape != null && shape.isEmbedding()) {
            return 2;
        }
        boolean chat = shape == BodyShape.CHAT || shape == BodyShape.OPENAI_CHAT
                || (shape == null && request.messageCount() > 0);
        if (chat) {
            return settings.chatBaseOverhead() + settings.perMessageOverhead() * Math.max(1, request.messageCount());
        }
        return settings.generateOverhead();
    }

    private void learnCalibration(TextProfile profile, int exactTokens) {
        double cheap = lengthBased(profile);
        if (cheap < MIN_CALIBRATION || exactTokens <= 0) {
            return;
        }
        double sample = Math.log(clamp(exactTokens / cheap));
        synchronized (this) {
            calibration = calibration.update(sample);
        }
    }

    /**
     * Learns from a finished request: the model's prompt ratio from {@code prompt_eval_count}, its output lengths
     * from {@code eval_count} (not for embeddings, and as a censored value when the cap cut it off).
     */
    public void learn(String modelKey, RequestEstimate predicted, TimingSample actual) {
        if (actual == null || predicted == null) {
            return;
        }
        ModelState s = state(modelKey);
        if (actual.promptEvalCount() > 0 && predicted.rawPromptTokens() > 0) {
            double sample = Math.log(clamp((double) actual.promptEvalCount() / predicted.rawPromptTokens()));
            synchronized (s) {
                s.promptRatio = s.promptRatio.update(sample);
            }
        }
        if (!predicted.embedding() && actual.evalCount() > 0) {
            if (predicted.hasCap() && actual.evalCount() >= predicted.outputCap()) {
                s.outputs.addCensored(actual.evalCount());
            } else {
                s.outputs.add(actual.evalCount());
            }
        }
    }

    /**
     * The learned {@code prompt_eval_count / raw} ratio of a model: its own samples blended with the other
     * replicas' (1 before any sample anywhere).
     */
    public double promptRatio(String modelKey) {
        ModelState s = models.get(modelKey);
        RobustEwma own = s == null ? RobustEwma.EMPTY : s.promptRatio;
        LogFigure other = shared.promptRatios.get(modelKey);
        double log = Blend.combine(own.isEmpty() ? Double.NaN : own.mean(), own.count(),
                other == null ? Double.NaN : other.logMean(), other == null ? 0 : other.weight());
        return Double.isNaN(log) ? 1.0 : Math.exp(log);
    }

    /** log of the character-length calibration: own exact counts blended with the other replicas' (0: none). */
    private double calibrationLog() {
        RobustEwma own = calibration;
        LogFigure other = shared.calibration;
        double log = Blend.combine(own.isEmpty() ? Double.NaN : own.mean(), own.count(),
                other == null ? Double.NaN : other.logMean(), other == null ? 0 : other.weight());
        return Double.isNaN(log) ? 0 : log;
    }

    /** This replica's own prompt ratios (log space), per model with at least one sample. */
    Map<String, LogFigure> ownPromptRatios() {
        Map<String, LogFigure> out = new HashMap<>();
        models.forEach((model, s) -> {
            RobustEwma r = s.promptRatio;
            if (!r.isEmpty()) {
                out.put(model, new LogFigure(r.mean(), r.count()));
            }
        });
        return out;
    }

    /** This replica's own character-length calibration (log space), or {@code null} before any exact count. */
    LogFigure ownCalibration() {
        RobustEwma c = calibration;
        return c.isEmpty() ? null : new LogFigure(c.mean(), c.count());
    }

    /** This replica's own output-length moments, per model with samples. */
    Map<String, OutputLengths.Moments> ownOutputLengths() {
        Map<String, OutputLengths.Moments> out = new HashMap<>();
        models.forEach((model, s) -> {
            OutputLengths.Moments m = s.outputs.own();
            if (m.weight() > 0) {
                out.put(model, m);
            }
        });
        return out;
    }

    /**
     * Installs the other replicas' merged figures, replacing the previous import: prompt ratios and output-length
     * moments per model, and the character calibration ({@code null}: none). The caller has validated them; the
     * output prior's weight is capped here at {@link Blend#MAX_SHARED_WEIGHT} samples.
     */
    void prior(Map<String, LogFigure> promptRatios, Map<String, OutputLengths.Moments> outputs,
               LogFigure calibration) {
        Shared next = new Shared(unmodifiableMap(new TreeMap<>(promptRatios)), unmodifiableMap(new TreeMap<>(outputs)),
                calibration);
        shared = next;
        for (String model : outputs.keySet()) {
            state(model);
        }
        models.forEach((model, s) -> s.applyPrior(next.outputs.get(model)));
    }

    /** The learned mean output length of a model, uncapped. */
    public double meanOutputTokens(String modelKey) {
        return state(modelKey).outputs.view().mean();
    }

    /** {@code E[min(L, cap)]} for a model ({@code cap < 0}: the mean). */
    public double expectedOutputTokens(String modelKey, int cap) {
        return state(modelKey).outputs.view().expectedCapped(cap);
    }

    /** Expected output tokens still to come from a generation that has produced about {@code generated}. */
    public double expectedRemainingOutput(String modelKey, double generated, int cap) {
        return state(modelKey).outputs.view().expectedRemaining(generated, cap);
    }

    /**
     * A model's output-length figures as they are now, to ask several questions of one snapshot (a decision
     * looking at every running job) without a lookup each.
     */
    public Outputs outputs(String modelKey) {
        return new Outputs(state(modelKey).outputs.view());
    }

    /** One model's output-length distribution at one moment. Immutable. */
    public static final class Outputs {
        private final OutputLengths.View view;

        private Outputs(OutputLengths.View view) {
            this.view = view;
        }

        /** As {@link RequestEstimator#expectedOutputTokens}. */
        public double expected(int cap) {
            return view.expectedCapped(cap);
        }

        /** As {@link RequestEstimator#expectedRemainingOutput}. */
        public double remaining(double generated, int cap) {
            return view.expectedRemaining(generated, cap);
        }
    }

    /** The q-quantile of a model's learned output length. */
    public double outputQuantile(String modelKey, double q) {
        return state(modelKey).outputs.view().quantile(q);
    }

    private ModelState state(String modelKey) {
        ModelState s = models.get(modelKey);
        if (s == null) {
            s = models.computeIfAbsent(modelKey, k -> {
                ModelState created = new ModelState(settings);
                OutputLengths.Moments prior = shared.outputs.get(k);
                if (prior != null) {
                    created.applyPrior(prior);
                }
                return created;
            });
        }
        return s;
    }

    private static double clamp(double ratio) {
        return Math.max(MIN_RATIO, Math.min(MAX_RATIO, ratio));
    }

    /** What is learned per model; {@code promptRatio} is swapped under the instance's lock. */
    private static final class ModelState {
        final OutputLengths outputs;
        volatile RobustEwma promptRatio = RobustEwma.EMPTY;
        /** The imported output prior in place ({@code null}: the default). Guarded by the instance's lock. */
        private OutputLengths.Moments applied;

        ModelState(EstimatorSettings s) {
            outputs = new OutputLengths(s.outputPriorMedian(), 3, s.outputHalfLife());
        }

        /**
         * The other replicas' length distribution as this model's prior, or the default one when none; nothing
         * changes when it is the one already installed.
         */
        synchronized void applyPrior(OutputLengths.Moments m) {
            if (Objects.equals(m, applied)) {
                return;
            }
            applied = m;
            if (m == null) {
                outputs.defaultPrior();
            } else {
                outputs.prior(m.logMean(), Math.max(MIN_LOG_SD, m.logSd()),
                        Math.min(Blend.MAX_SHARED_WEIGHT, m.weight()));
            }
        }
    }

    /** A figure kept in log space and the weight (samples) behind it. Immutable. */
    record LogFigure(double logMean, double weight) {
    }

    /** The other replicas' figures as last imported. Immutable. */
    private record Shared(Map<String, LogFigure> promptRatios, Map<String, OutputLengths.Moments> outputs,
                          LogFigure calibration) {
        static final Shared NONE = new Shared(Map.of(), Map.of(), null);
    }
}
