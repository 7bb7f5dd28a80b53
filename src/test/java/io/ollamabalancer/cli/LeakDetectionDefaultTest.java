package io.ollamabalancer.cli;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LeakDetectionDefaultTest {

    /** Runs {@code body} with Netty's two level properties as given (null: unset), then restores both and the level. */
    private static void with(String level, String legacy, Runnable body) {
        String savedLevel = System.getProperty(LeakDetectionDefault.PROPERTY);
        String savedLegacy = System.getProperty(LeakDetectionDefault.LEGACY_PROPERTY);
        ResourceLeakDetector.Level saved = ResourceLeakDetector.getLevel();
        try {
            set(LeakDetectionDefault.PROPERTY, level);
            set(LeakDetectionDefault.LEGACY_PROPERTY, legacy);
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
            body.run();
        } finally {
            set(LeakDetectionDefault.PROPERTY, savedLevel);
            set(LeakDetectionDefault.LEGACY_PROPERTY, savedLegacy);
            ResourceLeakDetector.setLevel(saved);
        }
    }

    private static void set(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void theDetectorIsOffUnlessAPropertyAsksForIt() {
        with(null, null, () -> {
            LeakDetectionDefault.apply();
            assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
        });
        with("simple", null, () -> {
            LeakDetectionDefault.apply();
            assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.SIMPLE);
        });
        with(null, "simple", () -> {
            LeakDetectionDefault.apply();
            assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.SIMPLE);
        });
    }
}
