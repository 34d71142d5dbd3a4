package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.nn.products.ProductEngine;
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

    @Option(names = "--engine", order = 7, paramLabel = "E", defaultValue = "auto", converter = EngineConverter.class,
            description = "engine of gradients and products: layers (dense networks with a built-in loss), generic (any), auto (default: ${DEFAULT-VALUE})")
    ProductEngine engine;

    /** The operator on the chosen engine; {@code --engine layers} for a model or loss it cannot do is bad input, before any work. */
    <T extends CurvatureOperator> T configure(T op) {
        try {
            op.useEngine(engine);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage(), e);
        }
        return op;
    }

    /** auto, layers or generic. */
    static final class EngineConverter implements ITypeConverter<ProductEngine> {
        @Override
        public ProductEngine convert(String value) {
            try {
                return ProductEngine.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not one of auto, layers, generic");
            }
        }
    }

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
