package dev.curvlab.curvature.laplace;

import java.util.Locale;

/** The curvature in the posterior precision: the GGN (default; positive semi-definite for convex losses) or the Hessian. */
public enum CurvatureType {
    GGN, HESSIAN;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
