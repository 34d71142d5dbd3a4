package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.MemoryBudget;
import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** How a dense [N, N] matrix is built ({@link FullHessian}): method, block size, memory budget, checkpoint. */
final class DenseOptions {
    @Option(names = "--method", order = 20, paramLabel = "M", converter = MethodConverter.class, defaultValue = "auto",
            description = "auto, structured (dense networks, fastest), blocked (k Hessian-vector products per pass)"
                    + " or rowloop (one per column) (default: ${DEFAULT-VALUE})")
    HessianMethod method;

    @Option(names = "--block", order = 21, paramLabel = "K", description = "columns per pass for blocked; 0 = from the memory budget (default: ${DEFAULT-VALUE})")
    int block;

    @Option(names = "--max-memory", order = 22, paramLabel = "SIZE", converter = BudgetConverter.class,
            description = "memory budget, e.g. 512M, 12G (default: 75%% of physical memory)")
    MemoryBudget maxMemory;

    @Option(names = "--checkpoint", order = 23, paramLabel = "DIR", description = "keep resumable progress in DIR (rerun the same command to resume)")
    Path checkpoint;

    @Option(names = "--symmetrize", order = 24, description = "replace the computed matrix by (H + H^T) / 2")
    boolean symmetrize;

    /** The FullHessian settings (output and progress set by the caller). */
    FullHessian.Options toOptions() {
        FullHessian.Options o = FullHessian.Options.defaults().withMethod(method).withBlockSize(block).withSymmetrize(symmetrize);
        if (maxMemory != null) {
            o = o.withBudget(maxMemory);
        }
        if (checkpoint != null) {
            o = o.withCheckpoint(checkpoint);
        }
        return o;
    }

    /** The budget in force. */
    MemoryBudget budget() {
        return maxMemory != null ? maxMemory : MemoryBudget.defaultBudget();
    }

    static final class MethodConverter implements ITypeConverter<HessianMethod> {
        @Override
        public HessianMethod convert(String value) {
            try {
                return HessianMethod.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Largest --block accepted (columns per pass; larger than N means N). */
    static final int MAX_BLOCK = 1 << 20;

    /**
     * A memory size: a number with an optional unit K, M, G, T, P (powers of 1024, optionally
     * followed by B or iB), between {@link #MIN_BYTES} (1K) and {@link #MAX_BYTES} (1P); anything
     * else, including values that overflow, is refused with the accepted range.
     */
    static final class BudgetConverter implements ITypeConverter<MemoryBudget> {
        static final long MIN_BYTES = 1L << 10;
        static final long MAX_BYTES = 1L << 50;
        private static final java.util.regex.Pattern SIZE =
                java.util.regex.Pattern.compile("(?i)\\s*([0-9]{1,30}(?:\\.[0-9]{1,30})?)\\s*([KMGTP]?)(?:I?B)?\\s*");

        @Override
        public MemoryBudget convert(String value) {
            String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
            java.util.regex.Matcher m = SIZE.matcher(value);
            if (!m.matches()) {
                throw new TypeConversionException("cannot read memory size '" + shown + "'; give a size between 1K and 1P (examples: 512M, 12G)");
            }
            int power = "KMGTP".indexOf(m.group(2).toUpperCase(java.util.Locale.ROOT)) + 1;
            java.math.BigDecimal bytes = new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(1024).pow(power));
            if (bytes.compareTo(java.math.BigDecimal.valueOf(MIN_BYTES)) < 0 || bytes.compareTo(java.math.BigDecimal.valueOf(MAX_BYTES)) > 0) {
                throw new TypeConversionException("memory size '" + shown + "' is out of range; accepted: 1K to 1P (examples: 512M, 12G)");
            }
            return MemoryBudget.of(bytes.longValue());
        }
    }
}
