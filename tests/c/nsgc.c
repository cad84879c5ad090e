/* Loaded and dropped by tests/lua/namespace.lua to see that a collected namespace
 * unloads its library (nothing else may load this one). */

int nsgc_value = 3;
