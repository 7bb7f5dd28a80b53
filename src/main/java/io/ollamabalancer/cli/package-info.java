/**
 * The picocli command line: {@code serve} (default), {@code demo}, {@code simulate}, {@code check-config} and the
 * benchmark tools. Parsing and wiring only; {@code Main} is the one place that calls {@code System.exit}.
 */
package io.ollamabalancer.cli;
