package dev.curvlab.curvature.cli;

import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** Targets and how the loss is evaluated: {@code --y Y.npy [--loss NAME] [--batch-size B]}. */
final class TargetOptions {
    @Option(names = "--y", order = 4, required = true, paramLabel = "FILE",
            description = "targets Y, .npy: [n, k] real values, or class indices [n] for ce")
    Path y;

    @Option(names = "--loss", order = 5, paramLabel = "NAME", description = "loss instead of model.json's: mse, ce, bce, gaussian, poisson")
    String loss;

    @Option(names = "--batch-size", order = 6, paramLabel = "B", converter = BatchSize.class, description = "samples per batch inside products (memory scales with it); 0 = all (default: ${DEFAULT-VALUE})")
    int batchSize;

    /** A non-negative integer. */
    static final class BatchSize implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int b;
            try {
                b = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not an integer");
            }
            if (b < 0) {
                throw new TypeConversionException("must be >= 0 (0 = all samples in one batch), got " + b);
            }
            return b;
        }
    }
}
