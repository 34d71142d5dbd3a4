package dev.curvlab.curvature.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns every failure into exactly one line {@code curvlab: error: <what and where>} on stderr
 * (plus the stack trace with {@code --debug}) and an exit code: {@link #USAGE} for bad command lines
 * (unknown command or option, missing or invalid option values), {@link #INPUT} for everything
 * else (missing or corrupt files, data that does not fit the model, a matrix over the memory
 * budget, a failed computation).
 */
final class ErrorReporter implements IParameterExceptionHandler, IExecutionExceptionHandler {
    /** Exit code for usage errors. */
    static final int USAGE = 2;
    /** Exit code for input, data and computation errors. */
    static final int INPUT = 1;
    /** Exit code for a computation that finished without meeting its tolerance (eigs not converged). */
    static final int NOT_CONVERGED = 3;
    /** Longest error line printed; longer messages (e.g. an echoed 50 MB architecture) are cut in the middle. */
    static final int MAX_LINE = 1000;

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        report(ex.getCommandLine(), usageMessage(ex), ex, args != null && Arrays.asList(args).contains("--debug"));
        return USAGE;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        boolean debug = parseResult != null && parseResult.originalArgs().contains("--debug");
        if (ex instanceof ParameterException pe) {
            report(pe.getCommandLine() != null ? pe.getCommandLine() : cmd, usageMessage(pe), ex, debug);
            return USAGE;
        }
        report(cmd, describe(ex), ex, debug);
        return ex instanceof NotConvergedException ? NOT_CONVERGED : INPUT;
    }

    private static void report(CommandLine cmd, String message, Exception ex, boolean debug) {
        PrintWriter err = cmd.getErr();
        err.println("curvlab: error: " + oneLine(message));
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
    }

    /** A picocli usage error, reworded to say which command it concerns and where its help is. */
    static String usageMessage(ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        String path = cmd == null ? "curvlab" : cmd.getCommandSpec().qualifiedName();
        String help = " (see '" + path + " --help')";
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().get(0);
            List<String> suggestions = u.getSuggestions();
            String hint = suggestions.isEmpty() ? "" : "; did you mean " + suggestions.get(0) + "?";
            if (cmd != null && cmd.getCommandSpec().parent() == null && !first.startsWith("-")) {
                return "unknown command '" + first + "'; commands: " + String.join(", ", cmd.getSubcommands().keySet()) + hint;
            }
            if (first.startsWith("-")) {
                return "unknown option '" + first + "' for '" + path + "'" + hint + help;
            }
            return "unexpected argument '" + first + "' for '" + path + "'" + help;
        }
        String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        if (!msg.isEmpty() && Character.isUpperCase(msg.charAt(0)) && (msg.length() < 2 || Character.isLowerCase(msg.charAt(1)))) {
            msg = Character.toLowerCase(msg.charAt(0)) + msg.substring(1);
        }
        return msg + help;
    }

    /** The message of an execution failure; library exceptions already say what and where. */
    static String describe(Throwable ex) {
        if (ex instanceof NoSuchFileException f) {
            return f.getFile() + ": file does not exist";
        }
        if (ex instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        String msg = ex.getMessage();
        if (ex instanceof BadInputException || ex instanceof NotConvergedException || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof java.io.IOException) {
            return msg != null ? msg : ex.getClass().getSimpleName();
        }
        if (msg == null && ex.getCause() != null && ex.getCause() != ex) {
            return describe(ex.getCause());
        }
        return ex.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }

    /**
     * Newlines (multi-line library messages) become "; " so the report stays one line, and a line
     * longer than {@link #MAX_LINE} keeps its start and end with the number of characters left out.
     */
    static String oneLine(String s) {
        if (s.length() > 64 * MAX_LINE) {
            s = s.substring(0, 32 * MAX_LINE) + "\n" + s.substring(s.length() - 32 * MAX_LINE);   // bound the regex work
        }
        String line = s.strip().replaceAll("\\s*\\R\\s*", "; ");
        if (line.length() <= MAX_LINE) {
            return line;
        }
        int head = MAX_LINE * 3 / 4;
        int tail = MAX_LINE / 8;
        return line.substring(0, head) + " ... [" + (line.length() - head - tail) + " characters left out] ... "
                + line.substring(line.length() - tail);
    }
}
