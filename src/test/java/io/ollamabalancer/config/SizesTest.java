package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SizesTest {

    @ParameterizedTest
    @CsvSource({
        "1048576, 1048576",
        "0, 0",
        "512B, 512",
        "64KB, 65536",
        "64k, 65536",
        "64KiB, 65536",
        "256MB, 268435456",
        "256mb, 268435456",
        "256 MB, 268435456",
        "1g, 1073741824",
        "2GiB, 2147483648",
        "1T, 1099511627776",
        "' 10m ', 10485760"
    })
    void parsesNumbersWithBinaryUnits(String text, long bytes) {
        assertThat(Sizes.parseBytes(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"MB", "12XB", "1.5g", "-1", "ten", "1 2"})
    void rejectsWhatIsNotASize(String text) {
        assertThatThrownBy(() -> Sizes.parseBytes(text))
                .isInstanceOf(ConfigException.class)
                .hasMessage("invalid size \"" + text.strip() + "\" (expected e.g. 256MB, 64KB, 1g or 1048576)");
    }

    @Test
    void rejectsEmptyAndOverflowingSizes() {
        assertThatThrownBy(() -> Sizes.parseBytes(" "))
                .hasMessage("empty size (expected e.g. 256MB, 1g or 1048576)");
        assertThatThrownBy(() -> Sizes.parseBytes("99999999999T"))
                .hasMessage("size \"99999999999T\" is too large");
        assertThatThrownBy(() -> Sizes.parseBytes("99999999999999999999"))
                .hasMessage("size \"99999999999999999999\" is too large");
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 1000, 1024, 65536, 268435456, 1073741824L * 3, 1536})
    void formatReadsBack(long bytes) {
        assertThat(Sizes.parseBytes(Sizes.format(bytes))).isEqualTo(bytes);
    }

    @Test
    void formatPicksTheLargestExactUnit() {
        assertThat(Sizes.format(256L << 20)).isEqualTo("256MB");
        assertThat(Sizes.format(64 * 1024)).isEqualTo("64KB");
        assertThat(Sizes.format(1536)).isEqualTo("1536B");
        assertThat(Sizes.format(0)).isEqualTo("0B");
    }
}
