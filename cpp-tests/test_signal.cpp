#include "test.hpp"
T_CASE(todo) {}
T_MAIN(T_ENTRY(todo))
