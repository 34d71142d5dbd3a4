package dev.curvlab.curvature.laplace;

import java.util.Locale;

/** Which parameters the Laplace approximation covers; the others stay at their MAP values. */
public enum Subset {
    ALL, LAST_LAYER;

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The first layer covered for a model of {@code layers} layers. */
    public int firstLayer(int layers) {
        return this == ALL ? 0 : layers - 1;
    }
}
