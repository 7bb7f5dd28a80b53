package io.ollamabalancer.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoJsonSyntaxTest {
    private static String check(String json) {
        byte[] b = json.getBytes(StandardCharsets.ISO_8859_1);
        return GoJsonSyntax.firstError(b, 0, b.length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "[]", "null", "0", "-0.5e+10", "\"a\\u00e9\\n\"", " {\"a\":[1,{\"b\":null},true]} ",
        "[[],{},\"\",-1,1E5]", "123"})
    void validDocumentsHaveNoError(String json) {
        assertThat(check(json)).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "39|'\\''", "34|'\"'", "92|'\\\\'", "120|'x'", "10|'\\n'", "9|'\\t'", "13|'\\r'", "7|'\\a'", "11|'\\v'",
        "8|'\\b'", "12|'\\f'", "0|'\\x00'", "31|'\\x1f'", "127|'\\x7f'", "128|'\\u0080'", "159|'\\u009f'",
        "160|'\\u00a0'", "173|'\\u00ad'", "233|'é'", "239|'ï'", "255|'ÿ'"})
    void quotesBytesLikeGo(int c, String quoted) {
        assertThat(GoJsonSyntax.quoteChar(c)).isEqualTo(quoted);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "[1,]|invalid character ']' looking for beginning of value",
        "[1 2]|invalid character '2' after array element",
        "[|unexpected end of JSON input",
        "\"abc|unexpected end of JSON input",
        "1.|invalid character ' ' after decimal point in numeric literal",
        "1e+|invalid character ' ' in exponent of numeric literal",
        "tr|invalid character ' ' in literal true (expecting 'u')",
        "{\"a\"}|invalid character '}' after object key",
        "\u00ef\u00bb\u00bf{}|invalid character 'ï' looking for beginning of value",
    })
    void errorsReadLikeGo(String json, String message) {
        assertThat(check(json)).isEqualTo(message);
    }
}
