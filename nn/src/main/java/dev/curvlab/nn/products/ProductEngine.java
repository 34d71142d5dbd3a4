package dev.curvlab.nn.products;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Sequential;
import java.util.Locale;

/**
 * Which engine computes gradients and curvature products: {@link #LAYERS} the layer-level engine
 * ({@link LayerProducts}: dense chains and image models of conv2d, pooling, flatten and dense layers, with a built-in loss), {@link #GENERIC} the core autodiff
 * engine (any model and loss; the fallback and the test oracle), {@link #AUTO} layers where they
 * apply, generic elsewhere.
 */
public enum ProductEngine {
    AUTO,
    LAYERS,
    GENERIC;

    /**
     * The layer engine for this model and loss, or null when the generic engine is to be used.
     *
     * @throws IllegalArgumentException for {@link #LAYERS} when the layer engine does not apply (the message says why)
     */
    public LayerProducts select(Sequential model, Loss loss) {
        return switch (this) {
            case GENERIC -> null;
            case AUTO -> LayerProducts.supports(model, loss) ? new LayerProducts(model, loss) : null;
            case LAYERS -> {
                String why = LayerProducts.unsupportedReason(model, loss);
                if (why != null) {
                    throw new IllegalArgumentException(why + " (engine layers; use generic or auto)");
                }
                yield new LayerProducts(model, loss);
            }
        };
    }

    /** {@code auto}, {@code layers} or {@code generic} (case-insensitive). */
    public static ProductEngine parse(String name) {
        String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
        for (ProductEngine e : values()) {
            if (e.name().equals(n)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "'; known: auto, layers, generic");
    }
}
