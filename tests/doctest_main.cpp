// The one doctest main shared by every nas test executable (static library nas_doctest_main).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
