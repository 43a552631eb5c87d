/// Get the weather.
#[toolsmith::tool(name = "weather.get")]
fn get_weather(city: String) -> String {
    city
}

/// Too long a name.
#[toolsmith::tool(name = "a_name_that_is_much_longer_than_the_sixty_four_characters_providers_accept")]
fn long_name() {}

fn main() {}
