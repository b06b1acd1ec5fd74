<?php
/**
 * Plugin Name:       Palabre for Akismet
 * Description:       Sends the Akismet plugin's requests to your Palabre server instead of rest.akismet.com: comments are checked with your organisation's moderation rules, and what you mark as spam or not spam teaches Palabre.
 * Version:           1.0.0
 * Requires at least: 5.0
 * Requires PHP:      7.0
 * Author:            Palabre
 * License:           AGPL-3.0-or-later
 * License URI:       https://www.gnu.org/licenses/agpl-3.0.html
 * Text Domain:       palabre-akismet
 *
 * The Akismet plugin calls the constant host rest.akismet.com (or {key}.rest.akismet.com, or one
 * of its addresses with that Host header). WordPress lets a plugin answer any request itself
 * through the `pre_http_request` filter: this plugin sends each such request to the Palabre
 * address set on Settings > Palabre (or in wp-config.php as PALABRE_AKISMET_ADDRESS), with the
 * same method, path, body, headers and timeout, and hands Palabre's answer back to Akismet.
 * Requests to any other host are left alone.
 *
 * It adds two fields Palabre understands: `guid` on the spam and not-spam reports (the guid
 * Palabre answered when it checked the comment, kept in the comment's meta), and
 * `comment_parent_guid` on the check of a reply (the guid of the comment it answers), so that a
 * report updates the comment Palabre checked and a reply joins its parent's thread.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'PALABRE_AKISMET_OPTION', 'palabre_akismet_address' );
define( 'PALABRE_AKISMET_GUID_META', 'palabre_akismet_guid' );

/**
 * The Palabre address requests go to ('' when none is set: Akismet's requests are left alone).
 *
 * @return string
 */
function palabre_akismet_address() {
	$address = defined( 'PALABRE_AKISMET_ADDRESS' ) ? PALABRE_AKISMET_ADDRESS : get_option( PALABRE_AKISMET_OPTION, '' );
	return is_string( $address ) ? untrailingslashit( trim( $address ) ) : '';
}

/**
 * Whether a host name is Akismet's API host.
 *
 * @param string $host A host name.
 * @return bool
 */
function palabre_akismet_is_api_host( $host ) {
	$host = strtolower( trim( (string) $host ) );
	$host = preg_replace( '/:\d+$/', '', $host );
	return 'rest.akismet.com' === $host || '.rest.akismet.com' === substr( $host, -17 );
}

/**
 * The value of a header in a request's headers (an array, or a string of lines), '' when absent.
 *
 * @param array|string $headers The request's headers.
 * @param string       $name    The header's name, in any case.
 * @return string
 */
function palabre_akismet_header( $headers, $name ) {
	if ( is_string( $headers ) ) {
		foreach ( preg_split( '/\r?\n/', $headers ) as $line ) {
			$pair = explode( ':', $line, 2 );
			if ( 2 === count( $pair ) && 0 === strcasecmp( trim( $pair[0] ), $name ) ) {
				return trim( $pair[1] );
			}
		}
		return '';
	}
	foreach ( (array) $headers as $key => $value ) {
		if ( 0 === strcasecmp( (string) $key, $name ) ) {
			return is_array( $value ) ? (string) reset( $value ) : (string) $value;
		}
	}
	return '';
}

/**
 * The request's headers without the Host header (WordPress sets it from Palabre's address).
 *
 * @param array|string $headers The request's headers.
 * @return array|string
 */
function palabre_akismet_without_host( $headers ) {
	if ( is_string( $headers ) ) {
		$kept = array();
		foreach ( preg_split( '/\r?\n/', $headers ) as $line ) {
			if ( ! preg_match( '/^\s*host\s*:/i', $line ) ) {
				$kept[] = $line;
			}
		}
		return implode( "\r\n", $kept );
	}
	$kept = array();
	foreach ( (array) $headers as $key => $value ) {
		if ( 0 !== strcasecmp( (string) $key, 'host' ) ) {
			$kept[ $key ] = $value;
		}
	}
	return $kept;
}

/**
 * The fields of a form-encoded body (read only: the body itself is sent as it was, plus fields).
 *
 * @param mixed $body The request's body.
 * @return array
 */
function palabre_akismet_fields( $body ) {
	if ( is_array( $body ) ) {
		return $body;
	}
	$fields = array();
	if ( is_string( $body ) && '' !== $body ) {
		parse_str( $body, $fields );
	}
	return $fields;
}

/**
 * A field's value as a positive WordPress id, 0 otherwise.
 *
 * @param array  $fields The body's fields.
 * @param string $name   The field.
 * @return int
 */
function palabre_akismet_id( $fields, $name ) {
	return isset( $fields[ $name ] ) && is_scalar( $fields[ $name ] ) ? absint( $fields[ $name ] ) : 0;
}

/**
 * Adds fields to a body, form-encoded as the Akismet plugin writes it.
 *
 * @param mixed $body  The request's body.
 * @param array $extra Fields to add.
 * @return mixed
 */
function palabre_akismet_add_fields( $body, $extra ) {
	if ( empty( $extra ) ) {
		return $body;
	}
	if ( is_array( $body ) ) {
		return array_merge( $body, $extra );
	}
	$encoded = _http_build_query( $extra, '', '&' );
	return ( is_string( $body ) && '' !== $body ) ? $body . '&' . $encoded : $encoded;
}

/**
 * Sends the Akismet plugin's requests to Palabre (the `pre_http_request` filter).
 *
 * @param false|array|WP_Error $preempt A response another filter gave, or false.
 * @param array                $args    The request's arguments (method, body, headers, timeout...).
 * @param string               $url     The request's address.
 * @return false|array|WP_Error
 */
function palabre_akismet_route( $preempt, $args, $url ) {
	if ( false !== $preempt ) {
		return $preempt;
	}
	$address = palabre_akismet_address();
	$parts   = wp_parse_url( $url );
	if ( '' === $address || ! is_array( $parts ) ) {
		return $preempt;
	}
	$headers = isset( $args['headers'] ) ? $args['headers'] : array();
	$host    = isset( $parts['host'] ) ? $parts['host'] : '';
	if ( ! palabre_akismet_is_api_host( $host ) && ! palabre_akismet_is_api_host( palabre_akismet_header( $headers, 'Host' ) ) ) {
		return $preempt;
	}
	$path   = isset( $parts['path'] ) ? $parts['path'] : '/';
	$target = $address . $path . ( isset( $parts['query'] ) ? '?' . $parts['query'] : '' );

	$body   = isset( $args['body'] ) ? $args['body'] : null;
	$fields = palabre_akismet_fields( $body );
	$call   = basename( $path );
	$extra  = array();
	if ( 'comment-check' === $call && ! palabre_akismet_id( $fields, 'comment_ID' ) ) {
		$parent = palabre_akismet_id( $fields, 'comment_parent' );
		$guid   = $parent ? get_comment_meta( $parent, PALABRE_AKISMET_GUID_META, true ) : '';
		if ( is_string( $guid ) && '' !== $guid ) {
			$extra['comment_parent_guid'] = $guid;
		}
	}
	if ( in_array( $call, array( 'submit-spam', 'submit-ham' ), true ) && empty( $fields['guid'] ) ) {
		$comment = palabre_akismet_id( $fields, 'comment_ID' );
		$guid    = $comment ? get_comment_meta( $comment, PALABRE_AKISMET_GUID_META, true ) : '';
		if ( is_string( $guid ) && '' !== $guid ) {
			$extra['guid'] = $guid;
		}
	}

	$args['headers'] = palabre_akismet_without_host( $headers );
	$args['body']    = palabre_akismet_add_fields( $body, $extra );
	unset( $args['_redirection'] );
	$response = wp_remote_request( $target, $args );

	if ( 'comment-check' === $call && ! is_wp_error( $response ) ) {
		palabre_akismet_remember( $fields, (string) wp_remote_retrieve_header( $response, 'x-akismet-guid' ) );
	}
	return $response;
}
add_filter( 'pre_http_request', 'palabre_akismet_route', 10, 3 );

/**
 * Keeps the guid Palabre answered for a check: on the comment when it is stored already (a
 * re-check), else until WordPress stores the comment it was about.
 *
 * @param array  $fields The check's fields.
 * @param string $guid   The guid Palabre answered.
 */
function palabre_akismet_remember( $fields, $guid ) {
	$guid = sanitize_text_field( $guid );
	if ( '' === $guid ) {
		return;
	}
	$comment = palabre_akismet_id( $fields, 'comment_ID' );
	if ( $comment ) {
		if ( '' === get_comment_meta( $comment, PALABRE_AKISMET_GUID_META, true ) ) {
			update_comment_meta( $comment, PALABRE_AKISMET_GUID_META, $guid );
		}
		return;
	}
	$GLOBALS['palabre_akismet_pending'] = array(
		'guid' => $guid,
		'post' => palabre_akismet_id( $fields, 'comment_post_ID' ),
	);
}

/**
 * Gives a new comment the guid of its check (the `wp_insert_comment` action).
 *
 * @param int        $id      The new comment's id.
 * @param WP_Comment $comment The new comment.
 */
function palabre_akismet_store_guid( $id, $comment ) {
	if ( empty( $GLOBALS['palabre_akismet_pending'] ) || ! is_object( $comment ) ) {
		return;
	}
	$pending = $GLOBALS['palabre_akismet_pending'];
	// The comment checked in this request is the one WordPress stores next, on the same post
	// (WordPress filters its author and text when it stores them: they are not compared).
	if ( (int) $comment->comment_post_ID !== $pending['post'] ) {
		return;
	}
	unset( $GLOBALS['palabre_akismet_pending'] );
	update_comment_meta( $id, PALABRE_AKISMET_GUID_META, $pending['guid'] );
}
add_action( 'wp_insert_comment', 'palabre_akismet_store_guid', 10, 2 );

/**
 * Palabre's address as typed on the settings page: an http or https address, or nothing.
 *
 * @param mixed $value What was typed.
 * @return string
 */
function palabre_akismet_sanitize_address( $value ) {
	$value = trim( (string) $value );
	if ( '' === $value ) {
		return '';
	}
	$url = esc_url_raw( $value, array( 'http', 'https' ) );
	if ( '' === $url || ! wp_parse_url( $url, PHP_URL_HOST ) ) {
		add_settings_error(
			PALABRE_AKISMET_OPTION,
			'palabre-akismet-address',
			__( 'Palabre’s address must start with https:// (or http://) and name a host.', 'palabre-akismet' )
		);
		return palabre_akismet_address();
	}
	return untrailingslashit( $url );
}

/** The settings page: Settings > Palabre. */
function palabre_akismet_admin_menu() {
	add_options_page(
		__( 'Palabre for Akismet', 'palabre-akismet' ),
		__( 'Palabre', 'palabre-akismet' ),
		'manage_options',
		'palabre-akismet',
		'palabre_akismet_settings_page'
	);
}
add_action( 'admin_menu', 'palabre_akismet_admin_menu' );

/** Registers the address setting. */
function palabre_akismet_admin_init() {
	register_setting(
		'palabre-akismet',
		PALABRE_AKISMET_OPTION,
		array(
			'type'              => 'string',
			'sanitize_callback' => 'palabre_akismet_sanitize_address',
			'default'           => '',
		)
	);
}
add_action( 'admin_init', 'palabre_akismet_admin_init' );

/**
 * Whether Palabre answers at the address (its `/1.1/test` says `connected`).
 *
 * @param string $address Palabre's address.
 * @return bool
 */
function palabre_akismet_connected( $address ) {
	$response = wp_remote_get( $address . '/1.1/test', array( 'timeout' => 10 ) );
	return ! is_wp_error( $response ) && 'connected' === trim( wp_remote_retrieve_body( $response ) );
}

/** Renders the settings page. */
function palabre_akismet_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$address = palabre_akismet_address();
	?>
	<div class="wrap">
		<h1><?php esc_html_e( 'Palabre for Akismet', 'palabre-akismet' ); ?></h1>
		<p><?php esc_html_e( 'The Akismet plugin’s requests go to this Palabre address instead of Akismet’s servers. Enter the 12-character key of this site, shown once on Palabre’s “Sites” page, on the Akismet settings page.', 'palabre-akismet' ); ?></p>
		<?php if ( '' !== $address ) : ?>
			<p id="palabre-akismet-status">
				<?php
				if ( palabre_akismet_connected( $address ) ) {
					/* translators: %s: Palabre's address. */
					printf( esc_html__( 'Palabre answers at %s.', 'palabre-akismet' ), '<code>' . esc_html( $address ) . '</code>' );
				} else {
					/* translators: %s: Palabre's address. */
					printf( esc_html__( 'Palabre does not answer at %s: check the address.', 'palabre-akismet' ), '<code>' . esc_html( $address ) . '</code>' );
				}
				?>
			</p>
		<?php endif; ?>
		<?php if ( defined( 'PALABRE_AKISMET_ADDRESS' ) ) : ?>
			<p><?php esc_html_e( 'The address is set in wp-config.php (PALABRE_AKISMET_ADDRESS).', 'palabre-akismet' ); ?></p>
		<?php else : ?>
			<form method="post" action="options.php">
				<?php settings_fields( 'palabre-akismet' ); ?>
				<table class="form-table" role="presentation">
					<tr>
						<th scope="row"><label for="palabre_akismet_address"><?php esc_html_e( 'Palabre’s address', 'palabre-akismet' ); ?></label></th>
						<td>
							<input name="<?php echo esc_attr( PALABRE_AKISMET_OPTION ); ?>" id="palabre_akismet_address" type="url" class="regular-text code" placeholder="https://palabre.example.com" value="<?php echo esc_attr( $address ); ?>" />
							<p class="description"><?php esc_html_e( 'The address of your Palabre server, e.g. https://palabre.example.com. Empty: Akismet’s requests go to Akismet.', 'palabre-akismet' ); ?></p>
						</td>
					</tr>
				</table>
				<?php submit_button(); ?>
			</form>
		<?php endif; ?>
	</div>
	<?php
}
