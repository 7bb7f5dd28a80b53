package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class EnvFileTest {

    private static Map<String, String> parse(String text) {
        return EnvFile.parse(text, ".env");
    }

    @Test
    void readsPlainPairsCommentsAndBlankLines() {
        Map<String, String> env = parse("""
                # the balancer
                PORT=3000

                  BIND = 127.0.0.1
                REDIS_URL=redis://cache:6379/0
                """);
        assertThat(env).containsExactly(entry("PORT", "3000"), entry("BIND", "127.0.0.1"),
                entry("REDIS_URL", "redis://cache:6379/0"));
    }

    @Test
    void acceptsExportPrefix() {
        assertThat(parse("export PORT=8080\nexport\tBIND=::1")).containsExactly(entry("PORT", "8080"),
                entry("BIND", "::1"));
    }

    @Test
    void commentAfterSpaceEndsAnUnquotedValueButHashInsideDoesNot() {
        assertThat(parse("A=1 # one\nB=pa#ss\nC=x\t#tab")).containsExactly(entry("A", "1"), entry("B", "pa#ss"),
                entry("C", "x"));
    }

    @Test
    void singleQuotesAreLiteral() {
        assertThat(parse("TOKEN='a b # c \\n $HOME'")).containsExactly(entry("TOKEN", "a b # c \\n $HOME"));
    }

    @Test
    void doubleQuotesUnderstandEscapes() {
        assertThat(parse("MSG=\"line1\\nline2\\t\\\"q\\\" \\\\ \\$x\" # after")).containsExactly(
                entry("MSG", "line1\nline2\t\"q\" \\ $x"));
    }

    @Test
    void emptyValuesAndEqualsInValues() {
        assertThat(parse("EMPTY=\nQUOTED=\"\"\nURL=http://h/?a=b=c")).containsExactly(entry("EMPTY", ""),
                entry("QUOTED", ""), entry("URL", "http://h/?a=b=c"));
    }

    @Test
    void laterLinesWinAndWindowsLineEndingsAndBomAreTolerated() {
        assertThat(parse("\uFEFFPORT=1\r\nPORT=2\r\n")).containsExactly(entry("PORT", "2"));
    }

    @Test
    void malformedLinesNameFileAndLine() {
        assertThatThrownBy(() -> parse("PORT=1\njust words\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage(".env line 2: expected KEY=VALUE, found \"just words\"");
        assertThatThrownBy(() -> parse("\n\n1PORT=3"))
                .hasMessage(".env line 3: invalid variable name \"1PORT\"");
        assertThatThrownBy(() -> parse("MY KEY=3"))
                .hasMessage(".env line 1: invalid variable name \"MY KEY\"");
        assertThatThrownBy(() -> parse("A=\"open"))
                .hasMessage(".env line 1: missing closing double quote");
        assertThatThrownBy(() -> parse("A='open"))
                .hasMessage(".env line 1: missing closing single quote");
        assertThatThrownBy(() -> parse("A=\"x\" y"))
                .hasMessage(".env line 1: unexpected text after the closing quote: \"y\"");
    }

    @Test
    void absentFileIsEmptyAndDirectoryIsAnError(@TempDir Path dir) throws Exception {
        assertThat(EnvFile.loadIfPresent(dir.resolve(".env"), ".env")).isEmpty();
        Files.createDirectory(dir.resolve("sub"));
        assertThatThrownBy(() -> EnvFile.loadIfPresent(dir.resolve("sub"), "sub"))
                .hasMessage("sub: is a directory, expected a KEY=VALUE file");
        Files.writeString(dir.resolve(".env"), "PORT=9\n");
        assertThat(EnvFile.loadIfPresent(dir.resolve(".env"), ".env")).containsExactly(entry("PORT", "9"));
    }
}
