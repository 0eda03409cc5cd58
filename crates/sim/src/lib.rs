pub mod population;
