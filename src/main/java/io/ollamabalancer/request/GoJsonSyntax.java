package io.ollamabalancer.request;

import java.util.Locale;

/**
 * Finds the first JSON syntax error in a body and words it the way Go's {@code encoding/json} does (the text
 * Ollama returns in its 400). Only used on the error path, after jackson-core has refused a body, so clarity wins
 * over speed here. The grammar is plain RFC 8259 with Go's nesting limit of 10000; at end of input a space is fed
 * first, exactly like Go, so a truncated number reads {@code invalid character ' ' in numeric literal}.
 * Stateless; every call uses its own state.
 */
final class GoJsonSyntax {
    /** Go's {@code maxNestingDepth}. */
    static final int MAX_DEPTH = 10_000;

    static final String UNEXPECTED_END = "unexpected end of JSON input";

    private static final byte PARSE_OBJECT_KEY = 0;
    private static final byte PARSE_OBJECT_VALUE = 1;
    private static final byte PARSE_ARRAY_VALUE = 2;

    private enum Step {
        BEGIN_VALUE_OR_EMPTY, BEGIN_VALUE, BEGIN_STRING_OR_EMPTY, BEGIN_STRING, END_VALUE, END_TOP,
        IN_STRING, IN_STRING_ESC, IN_STRING_ESC_U, NEG, ONE, ZERO, DOT, DOT0, EXP, EXP_SIGN, EXP0, LITERAL
    }

    private GoJsonSyntax() {
    }

    /** Go's error text for the first syntax error in {@code b[off, off+len)}, or {@code null} if it is one valid value. */
    static String firstError(byte[] b, int off, int len) {
        Scanner s = new Scanner();
        for (int i = off; i < off + len; i++) {
            String err = s.step(b[i] & 0xFF);
            if (err != null) {
                return err;
            }
        }
        return s.eof();
    }

    /** Go's {@code quoteChar}: the byte as a rune, quoted like {@code strconv.Quote} but in single quotes. */
    static String quoteChar(int c) {
        if (c == '\'') {
            return "'\\''";
        }
        if (c == '"') {
            return "'\"'";
        }
        return "'" + goQuoteBody(c) + "'";
    }

    private static String goQuoteBody(int c) {
        switch (c) {
            case 0x07: return "\\a";
            case '\b': return "\\b";
            case '\f': return "\\f";
            case '\n': return "\\n";
            case '\r': return "\\r";
            case '\t': return "\\t";
            case 0x0B: return "\\v";
            case '\\': return "\\\\";
            default:
                break;
        }
        if (c < 0x20 || c == 0x7F) {
            return String.format(Locale.ROOT, "\\x%02x", c);
        }
        // Latin-1 controls, the no-break space and the soft hyphen are not printable for strconv.IsPrint.
        if ((c >= 0x80 && c <= 0xA0) || c == 0xAD) {
            return String.format(Locale.ROOT, "\\u%04x", c);
        }
        return String.valueOf((char) c);
    }

    private static boolean isSpace(int c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isHex(int c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** One pass of Go's scanner state machine; {@link #step} returns an error text or {@code null}. */
    private static final class Scanner {
        private Step step = Step.BEGIN_VALUE;
        private byte[] stack = new byte[16];
        private int depth;
        private boolean endTop;
        private String literal;
        private int literalPos;
        private int hexLeft;

        String eof() {
            if (endTop) {
                return null;
            }
            String err = step(' ');
            if (err != null) {
                return err;
            }
            return endTop ? null : UNEXPECTED_END;
        }

        String step(int c) {
            switch (step) {
                case BEGIN_VALUE_OR_EMPTY:
                    if (isSpace(c)) {
                        return null;
                    }
                    return c == ']' ? endValue(c) : beginValue(c);
                case BEGIN_VALUE:
                    return beginValue(c);
                case BEGIN_STRING_OR_EMPTY:
                    if (isSpace(c)) {
                        return null;
                    }
                    if (c == '}') {
                        stack[depth - 1] = PARSE_OBJECT_VALUE;
                        return endValue(c);
                    }
                    return beginString(c);
                case BEGIN_STRING:
                    return beginString(c);
                case END_VALUE:
                    return endValue(c);
                case END_TOP:
                    return isSpace(c) ? null : error(c, "after top-level value");
                case IN_STRING:
                    if (c == '"') {
                        step = Step.END_VALUE;
                    } else if (c == '\\') {
                        step = Step.IN_STRING_ESC;
                    } else if (c < 0x20) {
                        return error(c, "in string literal");
                    }
                    return null;
                case IN_STRING_ESC:
                    return stringEscape(c);
                case IN_STRING_ESC_U:
                    if (!isHex(c)) {
                        return error(c, "in \\u hexadecimal character escape");
                    }
                    if (--hexLeft == 0) {
                        step = Step.IN_STRING;
                    }
                    return null;
                case NEG:
                    if (c == '0') {
                        step = Step.ZERO;
                        return null;
                    }
                    if (c >= '1' && c <= '9') {
                        step = Step.ONE;
                        return null;
                    }
                    return error(c, "in numeric literal");
                case ONE:
                    return isDigit(c) ? null : afterInteger(c);
                case ZERO:
                    return afterInteger(c);
                case DOT:
                    if (isDigit(c)) {
                        step = Step.DOT0;
                        return null;
                    }
                    return error(c, "after decimal point in numeric literal");
                case DOT0:
                    if (isDigit(c)) {
                        return null;
                    }
                    if (c == 'e' || c == 'E') {
                        step = Step.EXP;
                        return null;
                    }
                    return endValue(c);
                case EXP:
                    if (c == '+' || c == '-') {
                        step = Step.EXP_SIGN;
                        return null;
                    }
                    return expSign(c);
                case EXP_SIGN:
                    return expSign(c);
                case EXP0:
                    return isDigit(c) ? null : endValue(c);
                case LITERAL:
                    return literal(c);
                default:
                    throw new IllegalStateException(step.name());
            }
        }

        private String beginValue(int c) {
            if (isSpace(c)) {
                return null;
            }
            switch (c) {
                case '{':
                    step = Step.BEGIN_STRING_OR_EMPTY;
                    return push(c, PARSE_OBJECT_KEY);
                case '[':
                    step = Step.BEGIN_VALUE_OR_EMPTY;
                    return push(c, PARSE_ARRAY_VALUE);
                case '"':
                    step = Step.IN_STRING;
                    return null;
                case '-':
                    step = Step.NEG;
                    return null;
                case '0':
                    step = Step.ZERO;
                    return null;
                case 't':
                    return startLiteral("true");
                case 'f':
                    return startLiteral("false");
                case 'n':
                    return startLiteral("null");
                default:
                    if (c >= '1' && c <= '9') {
                        step = Step.ONE;
                        return null;
                    }
                    return error(c, "looking for beginning of value");
            }
        }

        private String beginString(int c) {
            if (isSpace(c)) {
                return null;
            }
            if (c == '"') {
                step = Step.IN_STRING;
                return null;
            }
            return error(c, "looking for beginning of object key string");
        }

        private String endValue(int c) {
            if (depth == 0) {
                step = Step.END_TOP;
                endTop = true;
                return step(c);
            }
            if (isSpace(c)) {
                step = Step.END_VALUE;
                return null;
            }
            switch (stack[depth - 1]) {
                case PARSE_OBJECT_KEY:
                    if (c == ':') {
                        stack[depth - 1] = PARSE_OBJECT_VALUE;
                        step = Step.BEGIN_VALUE;
                        return null;
                    }
                    return error(c, "after object key");
                case PARSE_OBJECT_VALUE:
                    if (c == ',') {
                        stack[depth - 1] = PARSE_OBJECT_KEY;
                        step = Step.BEGIN_STRING;
                        return null;
                    }
                    if (c == '}') {
                        return pop();
                    }
                    return error(c, "after object key:value pair");
                default:
                    if (c == ',') {
                        step = Step.BEGIN_VALUE;
                        return null;
                    }
                    if (c == ']') {
                        return pop();
                    }
                    return error(c, "after array element");
            }
        }

        private String afterInteger(int c) {
            if (c == '.') {
                step = Step.DOT;
                return null;
            }
            if (c == 'e' || c == 'E') {
                step = Step.EXP;
                return null;
            }
            return endValue(c);
        }

        private String expSign(int c) {
            if (isDigit(c)) {
                step = Step.EXP0;
                return null;
            }
            return error(c, "in exponent of numeric literal");
        }

        private String stringEscape(int c) {
            switch (c) {
                case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
                    step = Step.IN_STRING;
                    return null;
                case 'u':
                    step = Step.IN_STRING_ESC_U;
                    hexLeft = 4;
                    return null;
                default:
                    return error(c, "in string escape code");
            }
        }

        private String startLiteral(String word) {
            literal = word;
            literalPos = 1;
            step = Step.LITERAL;
            return null;
        }

        private String literal(int c) {
            char expected = literal.charAt(literalPos);
            if (c != expected) {
                return error(c, "in literal " + literal + " (expecting " + quoteChar(expected) + ")");
            }
            if (++literalPos == literal.length()) {
                step = Step.END_VALUE;
            }
            return null;
        }

        private String push(int c, byte state) {
            if (depth == stack.length) {
                stack = java.util.Arrays.copyOf(stack, depth * 2);
            }
            stack[depth++] = state;
            return depth > MAX_DEPTH ? error(c, "exceeded max depth") : null;
        }

        private String pop() {
            depth--;
            if (depth == 0) {
                step = Step.END_TOP;
                endTop = true;
            } else {
                step = Step.END_VALUE;
            }
            return null;
        }

        private static String error(int c, String context) {
            return "invalid character " + quoteChar(c) + " " + context;
        }
    }
}
