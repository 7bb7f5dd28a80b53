package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.request.InferenceRequest;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** Builders shared by the scheduler tests: fleets, requests, a manual clock, a recording target. */
final class Fixtures {
    static final String MODEL = "llama3.2:latest";
    static final String OTHER = "qwen2.5:latest";
    private static final AtomicLong IDS = new AtomicLong();

    private Fixtures() {
    }

    /** A backend spec: {@code name:slots:model,model}. */
    static Fleet fleet(String... specs) {
        List<BackendConfig> configs = new ArrayList<>();
        for (String spec : specs) {
            String[] p = spec.split(":", 3);
            List<String> models = List.of(p[2].split(","));
            configs.add(new BackendConfig(p[0], URI.create("http://127.0.0.1:" + (11434 + configs.size())),
                    Integer.parseInt(p[1]), models, true));
        }
        Fleet f = new Fleet(configs);
        for (Backend b : f.all()) {
            b.updateLoaded(b.installedModels());
        }
        return f;
    }

    static InferenceRequest generate(String model, int promptChars, int cap) {
        return new InferenceRequest(model, true, cap, null, "x".repeat(Math.max(0, promptChars)), 0, 0, "", false, 0);
    }

    static InferenceRequest chat(String model, String text, int messages, long prefixHash) {
        return new InferenceRequest(model, true, -1, null, text, messages, prefixHash, "", false, 0);
    }

    static PendingRequest pending(InferenceRequest r, int priority, long now, DispatchTarget target) {
        return new PendingRequest(IDS.incrementAndGet(), r, ModelNames.normalize(r.model()), priority, now, target);
    }

    /** A finished response: prompt and output tokens at the given speeds (tokens/s), warm. */
    static TimingSample sample(long prompt, long output, double prefillTps, double decodeTps) {
        long pd = (long) (prompt / prefillTps * 1e9);
        long ed = (long) (output / decodeTps * 1e9);
        return new TimingSample(prompt, pd, output, ed, 2_000_000L, pd + ed + 5_000_000L);
    }

    /** Scheduling without a timer or tokenizer, on a manual clock. */
    static Scheduling scheduling(Fleet fleet, String policy, SchedulerSettings settings, LongSupplier clock) {
        return Scheduling.create(fleet, settings, policy, CostHints.defaults(), EstimatorSettings.defaults()
                .withExactInlineChars(0), null, clock, false, null);
    }

    /** A clock the test moves by hand. */
    static final class Clock implements LongSupplier {
        private final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long getAsLong() {
            return now.get();
        }

        void advanceMillis(long ms) {
            now.addAndGet(ms * 1_000_000L);
        }

        void advanceNanos(long ns) {
            now.addAndGet(ns);
        }
    }

    /** Records what the scheduler told it. Thread-safe. */
    static final class Target implements DispatchTarget {
        final List<Backend> dispatched = new CopyOnWriteArrayList<>();
        final List<Integer> rejectedStatus = new CopyOnWriteArrayList<>();
        volatile String rejectedMessage;
        volatile long retryAfter = -1;

        @Override
        public void dispatch(Backend backend) {
            dispatched.add(backend);
        }

        @Override
        public void reject(int status, String message, long retryAfterSeconds) {
            rejectedStatus.add(status);
            rejectedMessage = message;
            retryAfter = retryAfterSeconds;
        }

        Backend backend() {
            return dispatched.isEmpty() ? null : dispatched.get(0);
        }

        int calls() {
            return dispatched.size() + rejectedStatus.size();
        }
    }

    static Set<String> names(List<Backend> backends) {
        Set<String> s = new java.util.LinkedHashSet<>();
        for (Backend b : backends) {
            s.add(b.name());
        }
        return s;
    }
}
