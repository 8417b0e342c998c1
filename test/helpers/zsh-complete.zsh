# zsh -f zsh-complete.zsh DIR LINE: types LINE and a Tab into an interactive zsh (under zpty) whose
# $fpath starts with DIR, and prints each word the completion system offered as <<word>>.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT='READY%# '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd() { builtin compadd "$@"; local -a r; builtin compadd -O r "$@"; print -rl -- "<<${^r[@]}>>" }'
zpty -w z "zstyle ':completion:*' menu no; bindkey '^I' complete-word"
# Type only once the prompt is up: zsh may drop what is typed ahead of it. The markers are
# computed so that only the command's output, not the echo of what was typed, matches.
zpty -w z 'print $((6*7))-SETUP'
zpty -r z out '*42-SETUP*READY*'
zpty -n -w z "$2"$'\t'$'\C-u''print $((6*7))-DONE'$'\n'
zpty -r z out '*42-DONE*'
print -r -- "$out"
zpty -d z
